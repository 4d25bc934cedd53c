//! The operator's memory and CPU amounts as Kubernetes quantities.
//!
//! The operator reads a memory amount as Flink's `MemorySize` first (`2048m` is 2048 MiB,
//! `2g` is 2 GiB) and only then as a Kubernetes quantity (`ResourceConfigUtils
//! .parseResourceMemoryString`); a CPU amount is a number of cores.

use crate::k8s::quantity::Quantity;

/// Largest memory size Flink's `MemorySize` holds (a Java `long` of bytes).
const MAX_BYTES: u128 = i64::MAX as u128;

/// The Kubernetes quantity for an operator memory amount, as the operator reads it.
pub fn memory_quantity(text: &str) -> Result<String, String> {
    match flink_memory_size(text) {
        Some(quantity) => quantity,
        None => kubernetes_memory(text),
    }
}

/// Flink's `MemorySize.parse`: digits, optional spaces, an optional unit of any case.
/// `None` when the text is not in that syntax (the operator then tries a quantity).
fn flink_memory_size(text: &str) -> Option<Result<String, String>> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return None;
    }
    let (suffix, factor): (&str, u128) = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" | "bytes" => ("", 1),
        "k" | "kb" | "kibibytes" => ("Ki", 1 << 10),
        "m" | "mb" | "mebibytes" => ("Mi", 1 << 20),
        "g" | "gb" | "gibibytes" => ("Gi", 1 << 30),
        "t" | "tb" | "tebibytes" => ("Ti", 1 << 40),
        _ => return None,
    };
    let fits = number
        .parse::<u128>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .is_some_and(|b| b <= MAX_BYTES);
    let number = number.trim_start_matches('0');
    let number = if number.is_empty() { "0" } else { number };
    Some(if fits {
        Ok(format!("{number}{suffix}"))
    } else {
        Err(format!("`{text}` is more bytes than Flink's MemorySize can hold (2^63 - 1)"))
    })
}

/// The operator's fallback: spaces removed, upper case, a final `B` dropped, a final `I`
/// lowered (`2gib` → `2Gi`), read as a Kubernetes quantity of whole bytes.
fn kubernetes_memory(text: &str) -> Result<String, String> {
    let mut quantity: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    quantity = quantity.to_uppercase();
    if quantity.ends_with('B') {
        quantity.pop();
    }
    if quantity.ends_with('I') {
        quantity.pop();
        quantity.push('i');
    }
    let bytes = Quantity::parse(&quantity).ok().map(Quantity::bytes);
    match bytes {
        Some(Some(bytes)) if bytes <= MAX_BYTES => Ok(quantity),
        Some(Some(_)) => {
            Err(format!("`{text}` is more bytes than Flink's MemorySize can hold (2^63 - 1)"))
        }
        Some(None) => Err(format!("`{text}` is not a whole number of bytes")),
        None => Err(format!(
            "`{text}` is not a memory size (Flink's `2048m`, `2g`, or a Kubernetes quantity such as `2Gi`)"
        )),
    }
}

/// A number of cores (the operator's `resource.cpu`, a Java `double`) as a quantity: whole
/// cores as they are, anything else in millicores.
pub fn cpu_quantity(cores: f64) -> Result<String, String> {
    let millis = (cores * 1000.0).round();
    if !cores.is_finite() || cores <= 0.0 || millis > 1e15 {
        return Err(format!("`{cores}` is not a number of cores"));
    }
    if (cores * 1000.0 - millis).abs() > 1e-6 {
        return Err(format!(
            "`{cores}` is finer than Kubernetes' smallest CPU unit, 1m (0.001 cores)"
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked above
    let millis = millis as u64;
    Ok(if millis.is_multiple_of(1000) { (millis / 1000).to_string() } else { format!("{millis}m") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_reads_flink_syntax_first() {
        let q = |t| memory_quantity(t).unwrap();
        assert_eq!(q("2048m"), "2048Mi");
        assert_eq!(q("2g"), "2Gi");
        assert_eq!(q("2G"), "2Gi"); // Flink's `g`, any case: not 2×10^9 bytes
        assert_eq!(q("1024 mb"), "1024Mi");
        assert_eq!(q("512k"), "512Ki");
        assert_eq!(q("1073741824"), "1073741824");
        assert_eq!(q("100 bytes"), "100");
    }

    #[test]
    fn memory_falls_back_to_a_quantity() {
        let q = |t| memory_quantity(t).unwrap();
        assert_eq!(q("2Gi"), "2Gi");
        assert_eq!(q("2gib"), "2Gi");
        assert_eq!(q("1.5g"), "1.5G");
        assert_eq!(q("0.5Gi"), "0.5Gi");
        assert!(memory_quantity("lots").is_err());
        assert!(memory_quantity("0.5").is_err());
        assert!(memory_quantity("99999999999t").is_err());
    }

    #[test]
    fn cpu_in_cores_or_millicores() {
        assert_eq!(cpu_quantity(1.0).unwrap(), "1");
        assert_eq!(cpu_quantity(0.5).unwrap(), "500m");
        assert_eq!(cpu_quantity(2.25).unwrap(), "2250m");
        assert!(cpu_quantity(0.0001).is_err());
        assert!(cpu_quantity(0.0).is_err());
    }
}
