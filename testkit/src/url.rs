//! Percent-decoding of query strings and `application/x-www-form-urlencoded` bodies, as the
//! fakes read what clients send.
//!
//! Invariant: never fails on hostile input; a `%` not followed by two hex digits stays as it
//! is, and bytes that are not UTF-8 are replaced (lossy).

/// Percent-decodes (and `+` → space).
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes `application/x-www-form-urlencoded` (also a query string without its `?`).
pub fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

/// The query parameters of a URL or path, decoded, in order.
pub fn query_params(url: &str) -> Vec<(String, String)> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    parse_form(query.split('#').next().unwrap_or_default())
}

/// One query parameter of a URL or path, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    query_params(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
