//! The slip's serial and tag, and what a checker is shown: pure rules, no I/O.
//!
//! A serial is 80 random bits written as 16 characters of Crockford's base32 (digits and
//! capitals without I, L, O, U), shown in four groups of four: `7K2M-9QX4-HDR3-PZ8W`. It
//! is read aloud and typed without confusion: case, spaces and dashes do not matter, and
//! O, I and L are read as 0, 1 and 1. Nobody can guess one (2^80), so the serial alone is
//! enough on the typed form.
//!
//! The tag guards the QR link against a doctored printout: an HMAC-SHA256 of the serial
//! and the student's number under the graduate school's key (`LIXIAO_SLIP_KEY`), cut to
//! 80 bits and prefixed with the key's id, so that keys can be rotated while old slips
//! still verify (`LIXIAO_SLIP_OLD_KEYS`).

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a serial, and in a tag's MAC: 16 × 5 = 80 bits.
pub const CODE_CHARS: usize = 16;
const CODE_BYTES: usize = 10;
/// A key id: 1 to 12 lowercase letters or digits.
const MAX_KEY_ID: usize = 12;

/// 80 bits as 16 base32 characters.
pub fn encode(bytes: &[u8; CODE_BYTES]) -> String {
    let mut out = String::with_capacity(CODE_CHARS);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
        buffer &= (1 << bits) - 1;
    }
    out
}

/// The 80 bits of 16 canonical base32 characters.
fn decode(code: &str) -> Option<[u8; CODE_BYTES]> {
    if code.len() != CODE_CHARS {
        return None;
    }
    let mut out = [0u8; CODE_BYTES];
    let (mut buffer, mut bits, mut at) = (0u32, 0u32, 0usize);
    for c in code.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out[at] = (buffer >> bits) as u8;
            at += 1;
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A serial as typed or scanned, made canonical: `None` unless it is 16 base32
/// characters once spaces and dashes are dropped and look-alikes read as digits.
pub fn normalize_serial(typed: &str) -> Option<String> {
    let canonical: String = typed
        .chars()
        // A Chinese input method types full-width letters and digits (Ａ, ７).
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            other => other,
        })
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '‑' | '–' | '—' | '－'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    decode(&canonical).map(|_| canonical)
}

/// The serial as printed: four groups of four.
pub fn grouped(serial: &str) -> String {
    serial
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// What the verification link carries after `/verify/`: `SERIAL.keyid-MAC`, split and
/// checked for form only (the MAC is checked against the key by [`SlipKeys::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCode {
    pub serial: String,
    pub key_id: String,
    pub mac: String,
}

impl LinkCode {
    pub fn parse(code: &str) -> Option<LinkCode> {
        let (serial, tag) = code.trim().split_once('.')?;
        let (key_id, mac) = tag.split_once('-')?;
        let serial = normalize_serial(serial)?;
        let mac = normalize_serial(mac)?;
        is_key_id(key_id).then(|| LinkCode {
            serial,
            key_id: key_id.to_owned(),
            mac,
        })
    }
}

pub fn is_key_id(id: &str) -> bool {
    (1..=MAX_KEY_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The name as a checker sees it: 王*明, 李*, 欧**华.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// The student number with its middle hidden: 2020****04 (the first four and the last
/// two kept; shorter numbers keep less).
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.trim().chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        0..=2 => (0, 0),
        3..=5 => (1, 1),
        6 => (2, 1),
        _ => (4, 2),
    };
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

pub use keys::{SlipKeys, new_serial};

mod keys {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use super::{CODE_BYTES, LinkCode, decode, encode, is_key_id};

    type HmacSha256 = Hmac<Sha256>;

    /// A new serial from the operating system's randomness.
    pub fn new_serial() -> String {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        let mut bytes = [0u8; CODE_BYTES];
        OsRng.fill_bytes(&mut bytes);
        encode(&bytes)
    }

    /// The key that tags new slips, and the older ones that still verify theirs.
    #[derive(Clone)]
    pub struct SlipKeys {
        current: (String, Vec<u8>),
        older: Vec<(String, Vec<u8>)>,
    }

    // Never print a secret (the configuration is logged on a bad start-up).
    impl std::fmt::Debug for SlipKeys {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let ids: Vec<&str> = self.older.iter().map(|(id, _)| id.as_str()).collect();
            write!(
                f,
                "SlipKeys {{ current: {}, older: {ids:?} }}",
                self.current.0
            )
        }
    }

    /// The shortest secret accepted, in bytes.
    pub const MIN_SECRET: usize = 32;

    /// `id:secret`, the secret at least 32 bytes.
    fn parse_key(text: &str) -> Result<(String, Vec<u8>), String> {
        let (id, secret) = text
            .trim()
            .split_once(':')
            .ok_or("expected KEYID:SECRET (e.g. 2026a:…)")?;
        if !is_key_id(id) {
            return Err("the key id is 1-12 lowercase letters or digits".to_owned());
        }
        if secret.len() < MIN_SECRET {
            return Err(format!(
                "the secret must be at least {MIN_SECRET} characters (e.g. `openssl rand -hex 32`)"
            ));
        }
        Ok((id.to_owned(), secret.as_bytes().to_vec()))
    }

    impl SlipKeys {
        /// `current` is `id:secret`; `older` a comma-separated list of the same.
        pub fn parse(current: &str, older: &str) -> Result<SlipKeys, String> {
            let current = parse_key(current)?;
            let mut keys = SlipKeys {
                current,
                older: Vec::new(),
            };
            for text in older.split(',').filter(|part| !part.trim().is_empty()) {
                let key = parse_key(text)?;
                if key.0 == keys.current.0 || keys.older.iter().any(|(id, _)| *id == key.0) {
                    return Err(format!("the key id {} is given twice", key.0));
                }
                keys.older.push(key);
            }
            Ok(keys)
        }

        /// The fixed key of the demo data and local runs. Never for real slips: the
        /// server uses it only with `LIXIAO_DEMO_DATA=1` and no key configured.
        pub fn demo() -> SlipKeys {
            SlipKeys {
                current: (
                    "demo".to_owned(),
                    b"lixiao-demo-slip-key-not-for-production-use".to_vec(),
                ),
                older: Vec::new(),
            }
        }

        fn mac(secret: &[u8], serial: &str, student_number: &str) -> HmacSha256 {
            let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
            // Separated, so that no serial/number pair reads as another.
            mac.update(b"lixiao-slip-v1\n");
            mac.update(serial.as_bytes());
            mac.update(b"\n");
            mac.update(student_number.as_bytes());
            mac
        }

        /// The tag printed in the QR link: `keyid-MAC` under the current key.
        pub fn tag(&self, serial: &str, student_number: &str) -> String {
            let (id, secret) = &self.current;
            let full = Self::mac(secret, serial, student_number)
                .finalize()
                .into_bytes();
            let mut cut = [0u8; CODE_BYTES];
            cut.copy_from_slice(&full[..CODE_BYTES]);
            format!("{id}-{}", encode(&cut))
        }

        /// The ids of every key this server holds, current first.
        pub fn key_ids(&self) -> impl Iterator<Item = &str> {
            std::iter::once(&self.current)
                .chain(&self.older)
                .map(|(id, _)| id.as_str())
        }

        /// Whether `tag` was made under a key this server still holds.
        pub fn knows_tag(&self, tag: &str) -> bool {
            tag.split_once('-')
                .is_some_and(|(id, _)| self.key_ids().any(|known| known == id))
        }

        /// Whether the link's MAC is right for this serial and student. The comparison is
        /// constant-time; an unknown key id is computed against the current key anyway,
        /// so that it costs what a wrong MAC costs.
        pub fn check(&self, link: &LinkCode, student_number: &str) -> bool {
            let known = std::iter::once(&self.current)
                .chain(&self.older)
                .find(|(id, _)| *id == link.key_id);
            let secret = known.unwrap_or(&self.current).1.as_slice();
            let presented = decode(&link.mac).unwrap_or([0u8; CODE_BYTES]);
            let right = Self::mac(secret, &link.serial, student_number)
                .verify_truncated_left(&presented)
                .is_ok();
            right && known.is_some()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serial_is_sixteen_characters_that_survive_typing() {
        let bytes = [0xff, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0];
        let serial = encode(&bytes);
        assert_eq!(serial.len(), CODE_CHARS);
        assert_eq!(decode(&serial), Some(bytes));
        let printed = grouped(&serial);
        assert_eq!(printed.len(), 19);
        assert_eq!(normalize_serial(&printed).as_deref(), Some(serial.as_str()));
        assert_eq!(
            normalize_serial(&printed.to_lowercase().replace('-', " ")).as_deref(),
            Some(serial.as_str())
        );
        // Look-alikes are read as the digits they look like.
        assert_eq!(
            normalize_serial("OOOO-IIII-LLLL-0000").as_deref(),
            Some("0000111111110000")
        );
        // Full width, as a Chinese input method types it, and long dashes.
        assert_eq!(
            normalize_serial("７Ｋ２Ｍ—９ＱＸ４ ＨＤＲ３－ＰＺ８Ｗ").as_deref(),
            Some("7K2M9QX4HDR3PZ8W")
        );
        for bad in [
            "",
            "7K2M-9QX4-HDR3",
            "7K2M-9QX4-HDR3-PZ8WX",
            "UUUU-UUUU-UUUU-UUUU",
            "王王王王",
        ] {
            assert_eq!(normalize_serial(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_link_is_serial_dot_key_id_dash_mac() {
        let link = LinkCode::parse("7K2M9QX4HDR3PZ8W.k1-0123456789ABCDEF").expect("parses");
        assert_eq!(link.serial, "7K2M9QX4HDR3PZ8W");
        assert_eq!(link.key_id, "k1");
        assert_eq!(link.mac, "0123456789ABCDEF");
        for bad in [
            "7K2M9QX4HDR3PZ8W",
            "7K2M9QX4HDR3PZ8W.",
            "7K2M9QX4HDR3PZ8W.k1",
            "7K2M9QX4HDR3PZ8W.K1-0123456789ABCDEF",
            "7K2M9QX4HDR3PZ8W.k1-0123",
            "short.k1-0123456789ABCDEF",
        ] {
            assert_eq!(LinkCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_checker_sees_masked_names_and_numbers() {
        assert_eq!(mask_name("王小明"), "王*明");
        assert_eq!(mask_name("李娜"), "李*");
        assert_eq!(mask_name("欧阳明华"), "欧**华");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_number("2020100004"), "2020****04");
        assert_eq!(mask_number("TS20060123"), "TS20****23");
        assert_eq!(mask_number("12345"), "1***5");
    }

    #[test]
    fn the_tag_binds_serial_student_and_key() {
        let keys = SlipKeys::parse("k2:0123456789abcdef0123456789abcdef", "").expect("key");
        let serial = new_serial();
        assert_ne!(serial, new_serial(), "random serials");
        let link = |tag: String| LinkCode::parse(&format!("{serial}.{tag}")).expect("parses");
        let tag = keys.tag(&serial, "2020100004");
        assert!(tag.starts_with("k2-"), "{tag}");
        assert!(keys.check(&link(tag.clone()), "2020100004"));
        // Another student's number with this serial's tag, a changed character, another
        // serial: all refused.
        assert!(!keys.check(&link(tag.clone()), "2020100001"));
        let mut tampered = tag.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert!(!keys.check(
            &link(String::from_utf8(tampered).expect("ascii")),
            "2020100004"
        ));
        let other = new_serial();
        let moved = LinkCode::parse(&format!("{other}.{tag}")).expect("parses");
        assert!(!keys.check(&moved, "2020100004"));
        // A different key does not accept it; the same key kept as an older one does.
        let rotated = SlipKeys::parse(
            "k3:ffffffffffffffffffffffffffffffffff",
            "k2:0123456789abcdef0123456789abcdef",
        )
        .expect("keys");
        assert!(rotated.check(&link(tag.clone()), "2020100004"));
        let forgotten = SlipKeys::parse("k2:ffffffffffffffffffffffffffffffffff", "").expect("key");
        assert!(!forgotten.check(&link(tag.clone()), "2020100004"));
        // An unknown key id never verifies, even with the current key's MAC.
        let unknown = keys.tag(&serial, "2020100004").replacen("k2-", "k9-", 1);
        assert!(!keys.check(&link(unknown), "2020100004"));
    }

    #[test]
    fn a_weak_or_malformed_key_is_refused() {
        for (current, older) in [
            ("", ""),
            ("nokey", ""),
            ("k1:short", ""),
            ("K1:0123456789abcdef0123456789abcdef", ""),
            (
                "k1:0123456789abcdef0123456789abcdef",
                "k1:0123456789abcdef0123456789abcdef",
            ),
        ] {
            assert!(
                SlipKeys::parse(current, older).is_err(),
                "{current} / {older}"
            );
        }
    }
}
