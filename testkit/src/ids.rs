//! Deterministic ids and hashes the fakes put in what they send (message ids, user ids, room
//! ids), and the wall clock in Unix milliseconds.
//!
//! Invariant: everything here except [`now_ms`] is a pure function of its arguments, stable
//! across runs and platforms (no `std` hasher, whose output may change between releases), so
//! a test can compute the id a fake will use.

/// One step of SplitMix64: a well-mixed 64-bit value from any seed.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a of `s`, starting from the offset basis xor `salt` (`salt` 0 is plain FNV-1a).
pub fn fnv1a(s: &str, salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A version-4-looking UUID, deterministic in `seed` (Twitch message ids, Kick ids).
pub fn uuid_like(seed: u64) -> String {
    let a = splitmix64(seed);
    let b = splitmix64(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// Milliseconds since the Unix epoch, by the real clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
