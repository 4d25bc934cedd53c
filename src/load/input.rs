//! Reading spec text: `-f FILE`, `-f DIR` (its `.yaml`, `.yml` and `.json` files, `-R` for
//! subdirectories) or `-f -` (stdin), bounded in size, UTF-8 checked.
//!
//! Keeps each input's display name and text so later stages can point at lines.

use std::io::Read;
use std::path::Path;

use crate::error::{Diagnostic, Error, Location};
use crate::yaml::{MAX_INPUT_BYTES, Pos};

/// One input: a name for messages and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The path as given, or `<stdin>`.
    pub origin: String,
    pub text: String,
}

/// Reads one `-f` argument; `-` reads `stdin`.
pub fn read(path: &Path, stdin: &mut dyn Read) -> Result<Input, Error> {
    if path == Path::new("-") {
        return decode("<stdin>".to_owned(), read_bounded(stdin, "<stdin>")?);
    }
    let origin = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|err| {
        Error::input_one(
            Diagnostic::new(format!("cannot read `{origin}`: {err}"))
                .with_help("check the path given to -f; use `-f -` to read standard input"),
        )
    })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Error::input_one(
            Diagnostic::new(format!("`{origin}` is a directory")).with_help("give -f a spec file"),
        ));
    }
    let bytes = read_bounded(&mut file, &origin)?;
    decode(origin, bytes)
}

/// Reads one `-f` argument that may name a directory: then every file in it whose name ends
/// `.yaml`, `.yml` or `.json`, sorted by path, and with `recursive` those of its
/// subdirectories too (kubectl's `-f DIR -R`). Entries whose name starts with `.` are skipped
/// (`.git`, `.github/workflows`), as are symbolic links to directories (no cycles) and the
/// file `skip` (`render --check`'s committed output, which is not input).
pub fn read_path(
    path: &Path,
    recursive: bool,
    skip: Option<&Path>,
    stdin: &mut dyn Read,
) -> Result<Vec<Input>, Error> {
    if path == Path::new("-") || !path.is_dir() {
        return Ok(vec![read(path, stdin)?]);
    }
    let skip = skip.and_then(|s| s.canonicalize().ok());
    let mut files = Vec::new();
    walk(path, recursive, skip.as_deref(), &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(Error::input_one(
            Diagnostic::new(format!(
                "`{}` holds no `.yaml`, `.yml` or `.json` file{}",
                path.display(),
                if recursive { "" } else { " (subdirectories are read with -R)" }
            ))
            .with_help("give -f a directory of spec files"),
        ));
    }
    files.iter().map(|file| read(file, stdin)).collect()
}

fn walk(
    dir: &Path,
    recursive: bool,
    skip: Option<&Path>,
    files: &mut Vec<std::path::PathBuf>,
) -> Result<(), Error> {
    let cannot = |err: std::io::Error| {
        Error::input_one(Diagnostic::new(format!("cannot read `{}`: {err}", dir.display())))
    };
    for entry in std::fs::read_dir(dir).map_err(cannot)? {
        let entry = entry.map_err(cannot)?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(cannot)?;
        if skip.is_some_and(|s| path.canonicalize().is_ok_and(|p| p == s)) {
            continue;
        }
        if file_type.is_dir() {
            if recursive {
                walk(&path, recursive, skip, files)?;
            }
        } else if path.is_file()
            && path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            files.push(path);
        }
    }
    Ok(())
}

/// All of `reader`, or `None` once it holds more than `limit` bytes (reading stops there).
pub fn read_at_most(reader: &mut dyn Read, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() <= limit).then_some(bytes))
}

fn read_bounded(reader: &mut dyn Read, origin: &str) -> Result<Vec<u8>, Error> {
    let bytes = read_at_most(reader, MAX_INPUT_BYTES).map_err(|err| {
        Error::input_one(Diagnostic::new(format!("cannot read `{origin}`: {err}")))
    })?;
    let Some(bytes) = bytes else {
        return Err(Error::input_one(
            Diagnostic::new(format!(
                "`{origin}` is larger than the limit of {MAX_INPUT_BYTES} bytes"
            ))
            .with_help("a cluster spec is a few kilobytes; check that the right file is given"),
        ));
    };
    Ok(bytes)
}

/// Checks the bytes are UTF-8 text without NUL, dropping a leading byte-order mark.
pub fn decode(origin: String, bytes: Vec<u8>) -> Result<Input, Error> {
    let text = String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let text = String::from_utf8_lossy(valid);
        let pos = position(&text, text.len());
        Error::input_one(
            Diagnostic::new(format!(
                "`{origin}` is not UTF-8 text (invalid byte at line {}, column {})",
                pos.line, pos.col
            ))
            .at(Location::in_text(&origin, &text, pos, None))
            .with_help("save the file as UTF-8"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text);
    if let Some(offset) = text.find('\0') {
        let pos = position(&text, offset);
        return Err(Error::input_one(
            Diagnostic::new("the spec contains a NUL byte")
                .at(Location::in_text(&origin, &text, pos, None))
                .with_help("remove it; YAML text may not contain NUL"),
        ));
    }
    Ok(Input { origin, text })
}

fn position(text: &str, offset: usize) -> Pos {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos { line, col, offset }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_utf8_and_nul_with_a_line() {
        let err = decode("x.yaml".into(), b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert!(
            err.to_string().contains("not UTF-8 text (invalid byte at line 2, column 4)"),
            "{err}"
        );
        let err = decode("x.yaml".into(), b"a: 1\0".to_vec()).unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
    }

    #[test]
    fn drops_a_leading_bom() {
        assert_eq!(decode("x".into(), "\u{feff}a: 1".into()).unwrap().text, "a: 1");
    }

    #[test]
    fn limits_the_size() {
        let big = vec![b'#'; MAX_INPUT_BYTES + 10];
        let err = read_bounded(&mut big.as_slice(), "big").unwrap_err();
        assert!(err.to_string().contains("larger than the limit of 1048576 bytes"), "{err}");
    }
}
