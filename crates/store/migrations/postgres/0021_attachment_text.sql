-- The text of PDF and DOCX attachments is now part of a message's searchable text: every
-- message is extracted again by the background indexer (`stale`), newest rows first as it
-- finds them; until then its older text keeps answering searches.
UPDATE search_text SET stale = 1;
