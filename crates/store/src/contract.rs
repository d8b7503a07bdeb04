//! # The storage contract
//!
//! What every metadata back-end promises, whichever it is: the embedded SQLite file
//! (`sqlite/`) or a PostgreSQL database (`postgres/`). The API is a set of traits, each method
//! documented there: [`crate::MailStore`], [`crate::WebStore`], [`crate::DirectoryStore`],
//! [`crate::LifecycleStore`], [`crate::QueueStore`], [`crate::SearchStore`],
//! [`crate::RateStore`] and [`crate::NodeStore`] (together [`crate::Metadata`], what a [`crate::Store`] dereferences
//! to). A back-end implements every one of them, and keeps the promises below across them.
//! Core and the protocols rely on these promises and on nothing a back-end happens to do
//! besides. Both back-ends run the same SQL
//! (`src/sql/`, compiled once per back-end) except where their `dialect.rs` and
//! `text_index.rs` differ; their schemas (migrations in `migrations/sqlite/` and
//! `migrations/postgres/`) keep the database-side promises with triggers. Each promise is
//! checked on both back-ends by the test named beside it (`tests.rs`, `directory.rs`,
//! `lifecycle.rs`: `on_sqlite::*` and `on_postgres::*`).
//!
//! 1. **Durable before it returns.** A method that writes returns only after its transaction
//!    has committed durably (SQLite: WAL with `synchronous=FULL`; PostgreSQL: the commit with
//!    `synchronous_commit` on). Deliveries are group-committed, and a waiter hears `Ok` only
//!    after the commit holding its rows. A failing delivery is rolled back alone.
//!    (`concurrent_deliveries_share_a_commit_and_fail_alone`) The one exception is the state
//!    of mail already kept — flags, expunges, copies and moves, `\Recent` claims, sign-in
//!    history — whose commit is atomic and survives a crash of the process but does not wait
//!    for the disk, so a power cut may take back its last moment (never a message); the next
//!    durable commit carries it. No write inherits that lightness from the one before.
//!    (`mail_commits_wait_for_the_disk_and_flag_changes_do_not`)
//! 2. **UIDs and modseqs.** Within a mailbox UIDs are handed out strictly increasing and never
//!    reused, each write that changes a mailbox takes a new highest modseq, and the change
//!    feed reports every message added, changed or expunged after a modseq — also when
//!    writers on other connections or nodes write at once (the mailbox row is locked while a
//!    write reads and changes it). (`uids_ascend_and_changes_feed_reports_everything`,
//!    `message_index_agrees_with_the_full_records`)
//! 3. **Counts kept by the database, in the same transaction.** Per mailbox: bytes, messages
//!    and unseen messages follow every insert, delete, move and flag change, whatever path
//!    made it (deliver, APPEND, COPY, MOVE, EXPUNGE, a cascade). Per blob: the reference count.
//!    (`unseen_counters_follow_flags_moves_and_expunges`, `one_blob_for_many_recipients_and_copies`)
//! 4. **Search in the same transaction.** A message delivered with its text is searchable as
//!    soon as the delivery returns, and stays so through COPY and MOVE; text given later
//!    (the background indexer) makes every message of that body searchable. Matching is the
//!    same on every back-end: the text is folded by core (`hopthu_model::text::search_fold`:
//!    no diacritics, đ → d, lower case; a NUL stored and looked for as a space) and a search
//!    string matches where it is a substring of the field (RFC 3501 §6.4.4), short strings
//!    included. Text from an older extraction stays searchable until extracted again.
//!    (`search_index_follows_messages`, `older_search_text_is_kept_then_extracted_again`)
//! 5. **Subscriptions are names.** A new mailbox starts subscribed; RENAME (of it or of a
//!    parent) carries the subscription; deleting the mailbox keeps it.
//!    (`rename_moves_children_and_conflicts_are_reported`)
//! 6. **The audit log is append-only and one chain.** The database itself refuses UPDATE and
//!    DELETE of `audit_log` rows (PostgreSQL: TRUNCATE too); each row's hash links to the row
//!    before it, and concurrent writers append one after the other, never onto the same
//!    predecessor. Audit rows commit in the transaction of the change they describe.
//!    (`a_decision_applies_once_with_its_audit_rows_in_a_chain`)
//! 7. **All or nothing.** A directory import, a lifecycle decision with its effects, a move
//!    of messages: each is one transaction. (`a_batch_is_written_whole_or_not_at_all`)
//! 8. **Conflicts are conflicts.** A duplicate address, mailbox name, unit code or notice
//!    number is [`crate::StoreError::Conflict`], never a half-written row.
//!    (`duplicate_account_is_a_conflict`, `a_notice_number_is_given_once_per_year`)
//! 9. **Blob references are known.** Every column that refers to a body is one the collector
//!    asks about, so no referenced body is ever collected.
//!    (`every_blob_column_is_a_known_reference`,
//!    `the_reference_query_sees_every_mailbox_and_the_queue`,
//!    `the_collector_frees_only_old_unreferenced_bodies`)
//! 10. **Time comes from Rust.** No statement reads the database's clock or date functions:
//!     times are Unix seconds passed in, and day boundaries (Vietnam's, for the report) are
//!     an offset passed in and integer arithmetic, so both back-ends count the same days.
//!
//! 11. **Outbound work is claimed.** A recipient taken from the queue
//!     ([`crate::QueueStore::claim_queued`]) is held by one node until its lease ends or its outcome
//!     is recorded; concurrent claims never take the same recipient (PostgreSQL:
//!     `FOR UPDATE SKIP LOCKED`). (`queue_claims_are_exclusive_and_end`)
//! 12. **One node runs a periodic job at a time** ([`crate::NodeStore::try_job`]: an advisory
//!     lock on PostgreSQL), and mailbox changes reach the other nodes
//!     ([`crate::NodeStore::announce_changes`], `LISTEN`/`NOTIFY`). (the multi-node tests in
//!     `crates/server/tests/it/nodes.rs`)
//! 13. **`\Recent` is claimed once.** Each mailbox keeps the highest UID some IMAP session
//!     was told about as recent (`recent_upto`, 0 for a new mailbox; [`crate::MailStore::recent_mark`]).
//!     [`crate::MailStore::claim_recent`] returns it and raises it to the caller's highest UID in
//!     one transaction under the mailbox's row lock, never lowering it, so of sessions on any
//!     nodes selecting at once each message above the old mark is recent in exactly one, and
//!     the mark survives restarts. (`recent_is_claimed_once`)
//!
//! 14. **Rate-limit events are shared.** [`crate::RateStore::rate_record`] makes its events
//!     count for every node at once ([`crate::RateStore::rate_counts`] sums the weights since a
//!     time the caller gives, with the oldest event's time); events older than the caller's
//!     `forget_before` are dropped in the same transaction. The one exception to promise 1:
//!     on PostgreSQL the table is `UNLOGGED`, so a crash of the database may forget counts
//!     (throttles start afresh), never anything else. (`rate_events_are_counted_and_forgotten`;
//!     across nodes: `nodes::a_source_locked_out_on_one_node_is_locked_out_on_the_other`)
//! 15. **A collector's deletes are seen by the nodes that wrote the same body.**
//!     [`crate::NodeStore::record_blob_deletions`] is committed before the object goes, inside
//!     [`crate::NodeStore::blob_gate`]; [`crate::NodeStore::blobs_deleted_since`] waits for a
//!     gate held and then sees every delete recorded inside it. (On the embedded store, one
//!     node, the local put gate does this and the three are trivial.)
//!     (`s3::a_collector_on_another_node_cannot_take_a_body_being_delivered`)
//! 16. **A delegation is one row with its audit.** [`crate::DelegationStore::grant_delegate`]
//!     inserts or replaces the rights of one (unit mailbox, delegate) pair, and
//!     [`crate::DelegationStore::revoke_delegate`] removes it (false, with nothing written,
//!     when there was none); each commits its audit rows in the same transaction (promise 6).
//!     A delegation never outlives either account (`ON DELETE CASCADE`), so purging a
//!     mailbox needs no clean-up. (`delegations_are_granted_listed_revoked_and_audited`)
//!     The owner of a unit mailbox ([`crate::DelegationStore::unit_owner`]) is read from the
//!     directory at each ask: the account of the unit's head while that person is active.
//!     (`a_unit_mailbox_is_owned_by_its_head`)
//! 17. **A document is one transaction.** [`crate::DocumentStore::dispatch_document`] writes
//!     the message rows of every recipient unit's INBOX (one body, referenced once per row),
//!     the document, a recipient row each and the audit rows together; a number already
//!     issued by the unit that year is a `Conflict` with nothing written. The first opening
//!     and the first acknowledgement of a recipient stay. (`a_document_is_delivered_with_its_rows`)
//! 18. **A reorganisation is one transaction, and no address is lost.** The
//!     [`crate::UnitEffect`]s of a [`crate::LifecycleStore::write_lifecycle`] apply in order
//!     with its audit rows, or none does. A unit whose address changes or which is merged
//!     leaves its old address as an alias of the new one (aliases to it follow, one hop), so
//!     mail to it still arrives; a merged unit's folders move into the receiving mailbox under
//!     a prefix with their messages; a merged or dissolved unit keeps its row (history names
//!     it) but leaves [`crate::DirectoryStore::units`]; a unit that still holds people or
//!     units cannot go, and a parent change that makes a cycle is refused.
//!     (`a_reorganisation_moves_units_people_mail_and_addresses_in_one_write`)
//! 19. **The ledger only grows.** [`crate::LedgerStore::record_open`] adds one opening to an
//!     (account, day) row in one statement and returns the day's count; a delivery of mail received
//!     (`Delivery::received`) counts the message once into the (account, day) row of each
//!     account it reaches, in any folder but Junk, in its own transaction, and
//!     [`crate::LedgerStore::count_sent`] one submission; a person's mailbox created (by
//!     `create_directory`), revoked or re-issued (`SetPersonState`) is a `mailbox_events` row
//!     of the same transaction; rows have no foreign
//!     key and no method removes them, so a past period reads the same figures whatever
//!     happens to mailboxes and messages later. Every row carries the unit of its time: an
//!     (account, day) row of messages or openings the unit of the account's person (or, for
//!     messages, the unit whose mailbox it is) when the row was first written, a
//!     `mailbox_events` row the person's unit when it was written; a person moved to another
//!     unit (`MovePerson`, `UnitEffect::MovePeople`) is a `moved` row with the new unit in the
//!     move's transaction (none when the unit does not change). So a later transfer,
//!     reorganisation or merge moves none of a finished period's figures: the rows already
//!     written keep their unit, and who was active where at a period's end is the unit of the
//!     person's last row at or before it. (`openings_are_counted_per_day_and_kept`,
//!     `deliveries_and_submissions_are_counted_when_they_happen`,
//!     `mailboxes_created_revoked_and_reissued_are_recorded_with_the_change`,
//!     `a_move_leaves_the_rows_of_before_in_the_old_unit`; rows written before the ledger
//!     learnt units take the unit of the time of the upgrade:
//!     `rows_of_before_get_the_unit_of_today`)
//! 20. **Administrative writes carry their audit rows.** A directory import
//!     ([`crate::DirectoryStore::create_directory`], `NewDirectory::audit`), an alias
//!     ([`crate::DirectoryStore::add_alias`]), a reserved name
//!     ([`crate::DirectoryStore::add_reserved_name`]) and an account recorded as an exception
//!     to the directory ([`crate::LifecycleStore::create_exception_account`]: the account, its
//!     folders and its `account_exceptions` row) commit their audit rows in the same
//!     transaction; a conflict writes neither (promise 6). An exception row never outlives its
//!     account (`ON DELETE CASCADE`).
//!     (`administrative_writes_commit_their_audit_rows_or_nothing`)
//! 21. **An address once given stays reachable.** [`crate::LifecycleEffect::ReaddressPerson`]
//!     changes the person's and the account's address, makes the old address an alias of the
//!     new one and points the aliases of the old address to the new one, in the decision's
//!     transaction; an address already given (account, person, unit or alias) is a `Conflict`
//!     and nothing of the decision is written.
//!     (`an_address_change_keeps_the_old_address_as_an_alias`)
//! 22. **Checkpoints anchor the audit chain.** [`crate::LifecycleStore::add_checkpoint`]
//!     records the chain's head (last row and hash) under the chain's lock, once per day;
//!     `checkpoints` lists them. (`checkpoints_anchor_the_head_once_a_day`)
//! 23. **An incident is written with its audit.** [`crate::IncidentStore::file_incident`] and
//!     [`crate::IncidentStore::update_incident`] commit the incident row and their audit rows
//!     together; a resolved incident is not changed again (`Conflict`, nothing written).
//!     (`an_incident_is_filed_handled_and_resolved_once`)
//! 24. **A compromised account's incident ends with its reset.** An incident filed with
//!     `locks_account` is resolved only by [`crate::LifecycleEffect::ResolveCompromise`] in the
//!     lifecycle write that sets the new password: the written confirmation's row (its blob
//!     then referenced, so the collector keeps it) and the resolution commit with the password
//!     and the audit rows, or nothing does (`Conflict` when the incident is not such an open
//!     one). (`a_compromise_is_resolved_with_its_confirmation`)
//! 25. **Sieve scripts are the account's, one active at most.** [`crate::SieveStore`] reads
//!     and writes only the scripts of the account it names; a name is unique per account;
//!     [`crate::SieveStore::activate_sieve_script`] makes one script the only active one (or
//!     none) in one transaction, and a unique partial index keeps two from ever being active;
//!     the active script is not deleted; a new script beyond the account's limit is refused
//!     with nothing written. [`crate::SieveStore::claim_vacation_reply`] decides and records a
//!     vacation reply in one statement, so a sender gets one reply per handle and period even
//!     from two deliveries at once. Scripts and reply records go with the account (`ON DELETE
//!     CASCADE`). (`scripts_are_kept_per_account_with_one_active`,
//!     `a_vacation_reply_is_claimed_once_per_period`)
//! 26. **A group follows the directory.** [`crate::MailGroupStore::create_group`] writes the
//!     group, its hand-made members, its named senders and its audit rows in one transaction
//!     (an address already a group's is a `Conflict`, nothing written);
//!     [`crate::MailGroupStore::delete_group`] removes them with its audit rows, or writes
//!     nothing when there was no such group. Members are not copied from the directory:
//!     [`crate::MailGroupStore::directory_members`] reads them when asked — the active people
//!     with an active mailbox of the units given, or the heads of those units (of every unit not
//!     dissolved when none is given) — so a person who joins, leaves or is revoked is in or out
//!     of every group at once.
//!     (`groups_are_stored_resolved_from_the_directory_and_deleted`)
//! 27. **An address book changes one version at a time.** Every write of
//!     [`crate::ContactStore`] (`put_contact`, `delete_contact`) raises the account's book
//!     version in its transaction, after locking the book's row, and checks its precondition
//!     (`If-Match`, `If-None-Match: *`: [`crate::Precondition`]) there: a failed one writes
//!     nothing, not even the version. A card keeps the version of its last change; a deleted
//!     card stays as a tombstone at its deletion's version, so `contact_changes(since)` tells a
//!     client holding an older version every card written or deleted since. Names are unique
//!     per book, UIDs among its live cards (another name with a live card's UID is a
//!     `Conflict`); a book and its cards go with their account (`ON DELETE CASCADE`).
//!     (`an_address_book_is_versioned_with_preconditions`)
//! 28. **A message is learnt once per domain.** [`crate::SpamStore::bayes_learn`] counts a
//!     message (keyed by the caller, the SHA-256 of its body) in one class of its domain's
//!     classifier: the totals, each of its tokens and the record of what it was learnt as are
//!     written in one transaction, serialised per domain (the totals row is written first, so
//!     on PostgreSQL its row lock orders concurrent learners). Learning it again as the same
//!     class writes nothing; as the other class moves it (counts taken away never go below
//!     zero). [`crate::SpamStore::bayes_counts`] reads the totals and the counts of the tokens
//!     asked about. (`a_message_is_learnt_once_and_moves_between_classes`)
//!
//! Each promise belongs to the trait methods it names; [`crate::Store`] opens the back-end
//! (`Store::open`: a `postgres://` URL, or SQLite under the data directory) and dereferences to
//! it as `dyn Metadata`.
