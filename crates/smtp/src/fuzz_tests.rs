//! Bounded mutation runs over the SMTP input path that needs no connection: real commands,
//! mutated and split into random reads, through the line framing, the command parser and the
//! SASL line reader. Must never panic (`hopthu_fuzz::run` catches and names the case).

use crate::wire::{InputBuffer, LineEvent, command_line_limit, parse_command, sasl_line};

const COMMANDS: &[&[u8]] = &[
    b"EHLO mail.caobang.gov.vn\r\n",
    b"HELO [127.0.0.1]\r\n",
    b"MAIL FROM:<datnv@caobang.gov.vn> SIZE=1000 BODY=8BITMIME SMTPUTF8\r\n",
    b"MAIL FROM:<> RET=HDRS ENVID=QQ314159\r\n",
    b"RCPT TO:<h\xc3\xb2a@caobang.gov.vn> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b\r\n",
    b"RCPT TO:<postmaster>\r\n",
    b"DATA\r\n",
    b"BDAT 100 LAST\r\n",
    b"AUTH PLAIN AGRhdG52QGNhb2JhbmcuZ292LnZuAG1hdC1raGF1\r\n",
    b"AUTH LOGIN\r\n",
    b"STARTTLS\r\n",
    b"RSET\r\nNOOP\r\nQUIT\r\n",
    b"VRFY datnv\r\n",
];

const DICTIONARY: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r",
    b"<",
    b">",
    b":",
    b"@",
    b"=",
    b" ",
    b"\x00",
    b"SIZE=99999999999999999999",
    b"BODY=BINARYMIME",
    b"\"quoted@\"",
    b"\\",
    b".\r\n",
];

#[test]
fn fuzz_command_lines() {
    hopthu_fuzz::run("smtp commands", 4000, |rng| {
        let mut stream = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let command = *rng.pick(COMMANDS);
            stream.extend(hopthu_fuzz::mutate(rng, command, DICTIONARY));
        }
        if rng.one_in(16) {
            // A line far over any limit.
            let long = rng.pick(COMMANDS).repeat(1 + rng.below(2000));
            stream.extend(long);
        }
        let mut buffer = InputBuffer::default();
        let mut at = 0;
        while at < stream.len() {
            let n = 1 + rng.below(128).min(stream.len() - at - 1);
            buffer.extend(&stream[at..at + n]);
            at += n;
            loop {
                match buffer.next_line(command_line_limit) {
                    LineEvent::Line(line) => {
                        let _ = parse_command(&line);
                        let _ = sasl_line(&line);
                    }
                    LineEvent::TooLong => {}
                    LineEvent::NeedMore => break,
                }
            }
            assert!(buffer.pending().len() <= stream.len());
        }
    });
}
