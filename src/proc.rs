//! Parsers for what the kernel hands to userspace as flat bytes: `environ` blocks and the kernel
//! command line. Pure functions over bounded input, so they can be fuzzed and property-tested.

/// The value of `key` in a NUL-separated `environ` block (the first occurrence, as `getenv`).
pub fn environ_get<'a>(environ: &'a [u8], key: &str) -> Option<&'a [u8]> {
    environ.split(|&b| b == 0).find_map(|entry| {
        entry
            .strip_prefix(key.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"="))
    })
}

/// Split a kernel command line into words as systemd does: blanks separate, double or single
/// quotes group and are removed. An unterminated quote runs to the end.
pub fn cmdline_words(cmdline: &[u8]) -> Vec<Vec<u8>> {
    let mut words = Vec::new();
    let mut word = Vec::new();
    let mut in_word = false;
    let mut quote: Option<u8> = None;
    for &b in cmdline {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => word.push(b),
            None if b == b'"' || b == b'\'' => {
                quote = Some(b);
                in_word = true;
            }
            None if b.is_ascii_whitespace() || b == 0 => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(b);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Values of `key=value` words, in order. In keys `-` and `_` are the same character, as in
/// systemd's `proc_cmdline_key_streq`.
pub fn cmdline_values<'a>(words: &'a [Vec<u8>], key: &str) -> impl Iterator<Item = &'a [u8]> {
    let key = key.as_bytes().to_vec();
    words.iter().filter_map(move |w| {
        let eq = w.iter().position(|&b| b == b'=')?;
        let (k, v) = w.split_at(eq);
        let same = k.len() == key.len()
            && k.iter().zip(&key).all(|(&a, &b)| {
                let norm = |c: u8| if c == b'-' { b'_' } else { c };
                norm(a) == norm(b)
            });
        same.then_some(&v[1..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn environ() {
        let env = b"HOME=/\0container=\0container_uuid=abc\0TERM=linux";
        assert_eq!(environ_get(env, "container"), Some(&b""[..]));
        assert_eq!(environ_get(env, "container_uuid"), Some(&b"abc"[..]));
        assert_eq!(environ_get(env, "TERM"), Some(&b"linux"[..]));
        assert_eq!(environ_get(env, "contain"), None);
        assert_eq!(environ_get(b"", "x"), None);
    }

    #[test]
    fn words_and_quotes() {
        let w = cmdline_words(b"ro  quiet \"systemd.machine_id=ab cd\" x='y z'\n");
        assert_eq!(
            w,
            vec![
                b"ro".to_vec(),
                b"quiet".to_vec(),
                b"systemd.machine_id=ab cd".to_vec(),
                b"x=y z".to_vec()
            ]
        );
    }

    #[test]
    fn dash_and_underscore_are_one() {
        let w = cmdline_words(b"systemd.machine-id=1 systemd.machine_id=2 systemd.machine_idx=3");
        let v: Vec<&[u8]> = cmdline_values(&w, "systemd.machine_id").collect();
        assert_eq!(v, vec![&b"1"[..], &b"2"[..]]);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let w = cmdline_words(&bytes);
            let _ = cmdline_values(&w, "systemd.machine_id").count();
            let _ = environ_get(&bytes, "container");
        }

        #[test]
        fn plain_words_round_trip(words in proptest::collection::vec("[a-z0-9._=-]{1,12}", 0..8)) {
            let line = words.join(" ");
            let parsed = cmdline_words(line.as_bytes());
            let expect: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
            prop_assert_eq!(parsed, expect);
        }
    }
}
