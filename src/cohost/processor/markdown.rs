//! Step 1 of the response processor: markdown to plain words (chat shows `**` and `#` as is).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Text,
    Item,
    Row,
}

/// Removes markdown, keeping the words: `**bold**`, `*it*`, `_it_`, `~~struck~~` → the text
/// (only where the marks stand at word edges, so `2*3*4`, `a * b` and `snake_case` stay);
/// `` `code` `` and ``` fences → the code (verbatim; the fence and its language go); `#`
/// headings, `>` quotes, `-`/`*`/`+`/`1.` list markers and task boxes, rules (`---`) and
/// reference definitions → gone; `\*` → `*`.
///
/// Links keep their text only: `[the docs](https://…)` → `the docs` (`[](url)` keeps the url,
/// `<https://…>` its address). A link the model wrote is not one the streamer vouches for, and
/// hidden link targets are where a hostile prompt would put its spam; a bare URL in the text
/// stays (filters can catch it). Images keep their alt text. Table rows become their cells
/// joined by `, ` (the delimiter row goes); list items and rows that run on get `,` / `;`
/// so that, collapsed to one line, they still read as a list.
pub fn strip_markdown(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let delimiter: Vec<bool> = lines.iter().map(|l| is_table_delimiter(l)).collect();
    let mut out: Vec<(String, LineKind)> = Vec::with_capacity(lines.len());
    let mut fence: Option<(char, usize)> = None;
    let mut in_table = false;
    for (i, line) in lines.iter().enumerate() {
        if let Some((mark, len)) = fence {
            if fence_of(line).is_some_and(|(m, n, info)| m == mark && n >= len && info.is_empty()) {
                fence = None;
            } else {
                out.push((line.to_string(), LineKind::Text));
            }
            continue;
        }
        if let Some((mark, len, _)) = fence_of(line) {
            fence = Some((mark, len));
            continue;
        }
        if delimiter[i] {
            in_table = true;
            continue;
        }
        let trimmed = line.trim();
        let row = (trimmed.starts_with('|') && trimmed.len() > 1)
            || (trimmed.contains('|') && (in_table || delimiter.get(i + 1) == Some(&true)));
        in_table &= row;
        if row {
            let cells: Vec<String> = split_cells(trimmed)
                .into_iter()
                .map(|cell| strip_inline(cell.trim()))
                .filter(|cell| !cell.is_empty())
                .collect();
            out.push((cells.join(", "), LineKind::Row));
            continue;
        }
        let (body, kind) = strip_block_marks(line);
        if let Some(body) = body {
            out.push((strip_inline(body), kind));
        }
    }
    // List items and rows that run on into the next one get a separator.
    let mut joined = String::with_capacity(text.len());
    for i in 0..out.len() {
        let (line, kind) = &out[i];
        if i > 0 {
            joined.push('\n');
        }
        joined.push_str(line);
        let runs_on = *kind != LineKind::Text
            && !line.trim().is_empty()
            && !line.trim_end().ends_with(|c: char| ".,;:!?…".contains(c))
            && out[i + 1..]
                .iter()
                .find(|(l, _)| !l.trim().is_empty())
                .is_some_and(|(_, k)| k == kind);
        if runs_on {
            joined.push(if *kind == LineKind::Item { ',' } else { ';' });
        }
    }
    joined
}

/// A fence line: its mark (`` ` `` or `~`), length and info string (the language).
fn fence_of(line: &str) -> Option<(char, usize, &str)> {
    let t = line.trim_start();
    let mark = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = t.chars().take_while(|c| *c == mark).count();
    let info = t[len..].trim();
    (len >= 3 && !(mark == '`' && info.contains('`'))).then_some((mark, len, info))
}

/// `|---|:---:|` or `--- | ---`.
fn is_table_delimiter(line: &str) -> bool {
    let t = line.trim();
    t.contains('|')
        && t.contains('-')
        && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'))
}

/// A row's cells, split at `|` that are not escaped (`\|`).
fn split_cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cells.last_mut().expect("one cell").push('|');
            }
            '|' => cells.push(String::new()),
            _ => cells.last_mut().expect("one cell").push(c),
        }
    }
    cells
}

/// A line without its block marks (quote, heading, list marker, task box), or `None` for a line
/// that is only markup (a rule, a setext underline, a reference definition).
fn strip_block_marks(line: &str) -> (Option<&str>, LineKind) {
    let mut t = line.trim_start();
    while let Some(rest) = t.strip_prefix('>') {
        t = rest.trim_start();
    }
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let rule = compact.len() >= 3
        && ['-', '*', '_']
            .iter()
            .any(|m| compact.chars().all(|c| c == *m));
    let underline = compact.len() >= 2 && compact.chars().all(|c| c == '=');
    if rule || underline || is_reference_definition(t) {
        return (None, LineKind::Text);
    }
    let hashes = t.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&hashes) && t[hashes..].chars().next().is_none_or(char::is_whitespace) {
        let body = t[hashes..].trim();
        // A closing `###` goes only after a space (`# C#` keeps its `#`).
        let closed = body.trim_end_matches('#');
        let body = if closed.is_empty() || closed.ends_with(' ') {
            closed.trim_end()
        } else {
            body
        };
        return (Some(body), LineKind::Text);
    }
    if let Some(body) = list_item(t) {
        let body = ["[ ] ", "[x] ", "[X] "]
            .iter()
            .find_map(|b| body.strip_prefix(b))
            .unwrap_or(body);
        return (Some(body), LineKind::Item);
    }
    (Some(t), LineKind::Text)
}

/// The text of a list item (`- x`, `* x`, `+ x`, `1. x`, `1) x`).
fn list_item(t: &str) -> Option<&str> {
    let mut chars = t.char_indices();
    let (_, first) = chars.next()?;
    let after_marker = if matches!(first, '-' | '*' | '+') {
        1
    } else {
        let digits = t.chars().take_while(char::is_ascii_digit).count();
        if !(1..=9).contains(&digits) || !t[digits..].starts_with(['.', ')']) {
            return None;
        }
        digits + 1
    };
    let rest = &t[after_marker..];
    rest.starts_with(char::is_whitespace)
        .then(|| rest.trim_start())
}

/// `[label]: https://…`.
fn is_reference_definition(t: &str) -> bool {
    t.starts_with('[')
        && t.find("]:").is_some_and(|at| {
            at > 1 && !t[1..at].contains(['[', ']']) && !t[at + 2..].trim().is_empty()
        })
}

/// One character of a line being stripped; `code` ones are never markup.
#[derive(Debug, Clone, Copy)]
struct Ch {
    c: char,
    code: bool,
}

/// Inline markup of one line: code spans and escapes, then links and images, then emphasis.
fn strip_inline(line: &str) -> String {
    let chars = links(&code_spans(line));
    let chars = ["**", "__", "~~", "*", "_"]
        .iter()
        .fold(chars, |chars, mark| emphasis(chars, mark));
    chars.iter().map(|ch| ch.c).collect()
}

/// Code spans (kept verbatim, marked as code) and backslash escapes.
fn code_spans(line: &str) -> Vec<Ch> {
    let src: Vec<char> = line.chars().collect();
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        if c == '\\' && src.get(i + 1).is_some_and(char::is_ascii_punctuation) {
            out.push(Ch {
                c: src[i + 1],
                code: true,
            });
            i += 2;
        } else if c == '`' {
            let n = run_len(&src, i, '`');
            match closing_run(&src, i + n, n) {
                Some(close) => {
                    let mut body = &src[i + n..close];
                    if body.len() >= 2
                        && body[0] == ' '
                        && body[body.len() - 1] == ' '
                        && body.iter().any(|c| *c != ' ')
                    {
                        body = &body[1..body.len() - 1];
                    }
                    out.extend(body.iter().map(|&c| Ch { c, code: true }));
                    i = close + n;
                }
                None => {
                    out.extend(src[i..i + n].iter().map(|&c| Ch { c, code: true }));
                    i += n;
                }
            }
        } else {
            out.push(Ch { c, code: false });
            i += 1;
        }
    }
    out
}

fn run_len(src: &[char], at: usize, mark: char) -> usize {
    src[at..].iter().take_while(|c| **c == mark).count()
}

/// Where the next run of exactly `n` backticks from `from` starts.
fn closing_run(src: &[char], from: usize, n: usize) -> Option<usize> {
    let mut j = from;
    while j < src.len() {
        if src[j] == '`' {
            let m = run_len(src, j, '`');
            if m == n {
                return Some(j);
            }
            j += m;
        } else {
            j += 1;
        }
    }
    None
}

fn is_mark(chars: &[Ch], at: usize, c: char) -> bool {
    chars.get(at).is_some_and(|ch| ch.c == c && !ch.code)
}

/// `[text](url)` → text, `![alt](url)` → alt, `[text][ref]` → text, `<https://x>` → the url.
fn links(chars: &[Ch]) -> Vec<Ch> {
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if is_mark(chars, i, '<') {
            if let Some(end) = autolink_end(chars, i) {
                out.extend_from_slice(&chars[i + 1..end]);
                i = end + 1;
                continue;
            }
        }
        let image = is_mark(chars, i, '!') && is_mark(chars, i + 1, '[');
        let open = if image { i + 1 } else { i };
        if is_mark(chars, open, '[') {
            if let Some((text_end, end)) = link_at(chars, open) {
                let text = &chars[open + 1..text_end];
                if text.iter().all(|ch| ch.c.is_whitespace()) && is_mark(chars, text_end + 1, '(') {
                    // `[](url)`: the url is all there is.
                    let url = &chars[text_end + 2..end];
                    let url_end = url
                        .iter()
                        .position(|ch| ch.c.is_whitespace())
                        .unwrap_or(url.len());
                    out.extend_from_slice(&url[..url_end]);
                } else {
                    out.extend_from_slice(text);
                }
                i = end + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// For a `[` at `open` that starts a link: where its text ends (`]`) and the link ends (`)` or
/// the reference's `]`).
fn link_at(chars: &[Ch], open: usize) -> Option<(usize, usize)> {
    let text_end = (open + 1..chars.len()).find(|&j| is_mark(chars, j, ']'))?;
    if (open + 1..text_end).any(|j| is_mark(chars, j, '[')) {
        return None;
    }
    let (opener, closer) = if is_mark(chars, text_end + 1, '(') {
        ('(', ')')
    } else if is_mark(chars, text_end + 1, '[') {
        ('[', ']')
    } else {
        return None;
    };
    let mut depth = 0usize;
    for j in text_end + 1..chars.len() {
        if is_mark(chars, j, opener) {
            depth += 1;
        } else if is_mark(chars, j, closer) {
            depth -= 1;
            if depth == 0 {
                return Some((text_end, j));
            }
        }
    }
    None
}

/// `<https://…>`, `<http://…>`, `<mailto:…>`: where its `>` is.
fn autolink_end(chars: &[Ch], open: usize) -> Option<usize> {
    let rest = &chars[open + 1..];
    let end = rest
        .iter()
        .position(|ch| ch.c == '>' || ch.c == '<' || ch.c.is_whitespace())?;
    if rest[end].c != '>' {
        return None;
    }
    let inner: String = rest[..end].iter().map(|ch| ch.c).collect();
    let lower = inner.to_ascii_lowercase();
    (["https://", "http://", "mailto:"]
        .iter()
        .any(|s| lower.starts_with(s) && lower.len() > s.len()))
    .then_some(open + 1 + end)
}

/// Removes pairs of `mark` that stand at word edges: the opening one is followed by a
/// non-space and not preceded by a letter or digit, the closing one preceded by a non-space
/// and not followed by a letter or digit, with something between. A single-character mark
/// must stand alone (not part of `**`).
fn emphasis(chars: Vec<Ch>, mark: &str) -> Vec<Ch> {
    let m: Vec<char> = mark.chars().collect();
    let len = m.len();
    let at = |i: usize| -> bool {
        i + len <= chars.len()
            && (0..len).all(|k| is_mark(&chars, i + k, m[k]))
            && (len > 1
                || ((i == 0 || !is_mark(&chars, i - 1, m[0])) && !is_mark(&chars, i + 1, m[0])))
    };
    let word = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_some_and(|ch| ch.c.is_alphanumeric())
    };
    let space = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_none_or(|ch| ch.c.is_whitespace())
    };
    let opens = |i: usize| at(i) && !space(Some(i + len)) && !word(i.checked_sub(1));
    let closes = |i: usize| at(i) && !space(i.checked_sub(1)) && !word(Some(i + len));
    let mut remove = vec![false; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        if !opens(i) {
            i += 1;
            continue;
        }
        // No closing mark after `i` means none after any later opening either.
        let Some(close) = (i + len + 1..chars.len()).find(|&j| closes(j)) else {
            break;
        };
        for k in 0..len {
            remove[i + k] = true;
            remove[close + k] = true;
        }
        i = close + len;
    }
    chars
        .into_iter()
        .zip(remove)
        .filter_map(|(ch, gone)| (!gone).then_some(ch))
        .collect()
}
