//! Kubernetes resource quantities and their exact conversion to Flink memory sizes.
//!
//! A quantity (`1600Mi`, `2G`, `1.5Gi`, `500m`) is parsed into an exact rational number, so
//! `1600Mi` becomes Flink's `1600m` (Flink's `m` means mebibytes) with no rounding anywhere.

use crate::error::Diagnostic;

/// A parsed quantity: `mantissa × 10^exp10 × 1024^exp1024`, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    mantissa: u128,
    exp10: i32,
    exp1024: u32,
}

impl Quantity {
    /// Parses the Kubernetes quantity grammar (non-negative values only).
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        let bad = || {
            Diagnostic::new(format!(
                "`{text}` is not a Kubernetes quantity (e.g. \"1\", \"500m\", \"1600Mi\", \"2Gi\")"
            ))
        };
        let number_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(number_end);
        let number = number.strip_prefix('+').unwrap_or(number);
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || int.len() + frac.len() > 30
        {
            return Err(bad());
        }
        let mantissa: u128 = format!("{int}{frac}").parse().map_err(|_| bad())?;
        let frac_digits = i32::try_from(frac.len()).map_err(|_| bad())?;
        let (exp10, exp1024) = match suffix {
            "" => (0, 0),
            "Ki" => (0, 1),
            "Mi" => (0, 2),
            "Gi" => (0, 3),
            "Ti" => (0, 4),
            "Pi" => (0, 5),
            "Ei" => (0, 6),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            exp if exp.starts_with(['e', 'E']) => {
                let e = &exp[1..];
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty()
                    || digits.len() > 3
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(bad());
                }
                (e.parse::<i32>().map_err(|_| bad())?, 0)
            }
            _ => return Err(bad()),
        };
        Ok(Self { mantissa, exp10: exp10 - frac_digits, exp1024 })
    }

    /// Whether the quantity is zero.
    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// The quantity as a floating-point number (a CPU amount such as Flink's
    /// `kubernetes.jobmanager.cpu.amount`): `500m` is 0.5, correctly rounded.
    #[allow(clippy::cast_precision_loss)] // quantities beyond 2^53 are not CPU amounts
    pub fn to_f64(self) -> f64 {
        let whole =
            self.mantissa as f64 * 1024f64.powi(i32::try_from(self.exp1024).unwrap_or(i32::MAX));
        if self.exp10 >= 0 {
            whole * 10f64.powi(self.exp10)
        } else {
            whole / 10f64.powi(-self.exp10)
        }
    }

    /// The quantity as a whole number of bytes, if it is one (and fits).
    pub fn bytes(self) -> Option<u128> {
        let mut value = self.mantissa.checked_mul(1024u128.checked_pow(self.exp1024)?)?;
        if self.exp10 >= 0 {
            value = value.checked_mul(10u128.checked_pow(self.exp10.unsigned_abs())?)?;
        } else {
            let divisor = 10u128.checked_pow(self.exp10.unsigned_abs())?;
            if value % divisor != 0 {
                return None;
            }
            value /= divisor;
        }
        Some(value)
    }
}

/// A decimal SI suffix (`k`, `M`, `G`, `T`, `P`, `E`) a quantity ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalSuffix {
    /// The suffix as written, e.g. `G`.
    pub suffix: &'static str,
    /// The power of ten it stands for, e.g. 9.
    pub exp10: u32,
    /// The binary suffix a memory size most likely meant, e.g. `Gi`.
    pub binary: &'static str,
}

/// The decimal SI suffix `text` ends in, if any: Kubernetes reads `2G` as 2×10^9 bytes, while
/// Flink's `MemorySize` reads `2g` as 2 GiB (flink-core `MemorySize.MemoryUnit`).
pub fn decimal_suffix(text: &str) -> Option<DecimalSuffix> {
    let (at, _) = text.char_indices().last()?;
    let (number, suffix) = text.split_at(at);
    if !number.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    [
        ("k", 3, "Ki"),
        ("M", 6, "Mi"),
        ("G", 9, "Gi"),
        ("T", 12, "Ti"),
        ("P", 15, "Pi"),
        ("E", 18, "Ei"),
    ]
    .into_iter()
    .find(|(decimal, _, _)| *decimal == suffix)
    .map(|(suffix, exp10, binary)| DecimalSuffix { suffix, exp10, binary })
}

const MIB: u128 = 1024 * 1024;

/// Writes a byte count the way Flink's `MemorySize` reads it, in the largest exact unit.
pub fn flink_memory(bytes: u128) -> String {
    for (unit, size) in [("t", MIB * MIB), ("g", MIB * 1024), ("m", MIB), ("k", 1024)] {
        if bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}b")
}

/// Parses a Flink memory size written by [`flink_memory`] back into bytes.
pub fn parse_flink_memory(text: &str) -> Option<u128> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let size = match unit {
        "t" => MIB * MIB,
        "g" => MIB * 1024,
        "m" => MIB,
        "k" => 1024,
        "b" => 1,
        _ => return None,
    };
    number.parse::<u128>().ok()?.checked_mul(size)
}

/// The heap Flink < 1.10/1.11 should get inside a container of `bytes`: Flink's own
/// containerized cutoff (`containerized.heap-cutoff-ratio` 0.25, `…-min` 600 MiB), in MiB.
pub fn heap_after_cutoff(bytes: u128) -> Option<u128> {
    let mib = bytes / MIB;
    let cutoff = (mib / 4).max(600);
    mib.checked_sub(cutoff).filter(|heap| *heap >= 128).map(|heap| heap * MIB)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn converts_common_quantities_exactly() {
        let bytes = |t| Quantity::parse(t).unwrap().bytes();
        assert_eq!(bytes("1600Mi"), Some(1600 * MIB));
        assert_eq!(bytes("2Gi"), Some(2048 * MIB));
        assert_eq!(bytes("1.5Gi"), Some(1536 * MIB));
        assert_eq!(bytes("2G"), Some(2_000_000_000));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(bytes("500m"), None);
        assert_eq!(flink_memory(1600 * MIB), "1600m");
        assert_eq!(flink_memory(2048 * MIB), "2g");
        assert_eq!(flink_memory(2_000_000_000), "1953125k");
        assert_eq!(flink_memory(1001), "1001b");
    }

    #[test]
    fn decimal_suffixes_and_their_binary_counterparts() {
        let binary = |t| decimal_suffix(t).map(|d| (d.suffix, d.exp10, d.binary));
        assert_eq!(binary("2G"), Some(("G", 9, "Gi")));
        assert_eq!(binary("1.5M"), Some(("M", 6, "Mi")));
        assert_eq!(binary("512k"), Some(("k", 3, "Ki")));
        assert_eq!(binary("1E"), Some(("E", 18, "Ei")));
        for not in ["2Gi", "2048", "1e3", "2E3", "500m", "G", "", "é"] {
            assert_eq!(decimal_suffix(not), None, "{not}");
        }
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        for bad in ["", "Mi", "-1Gi", "1 Gi", "1gi", "1.2.3", "0x10", "1e", "1Mib", "."] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn heap_cutoff_matches_flink() {
        assert_eq!(heap_after_cutoff(1600 * MIB), Some(1000 * MIB));
        assert_eq!(heap_after_cutoff(4096 * MIB), Some(3072 * MIB));
        assert_eq!(heap_after_cutoff(512 * MIB), None);
    }

    proptest! {
        #[test]
        fn quantity_to_flink_to_bytes_is_exact(n in 1u64..1_000_000, unit in 0usize..8) {
            let (suffix, factor): (&str, u128) =
                [("", 1), ("Ki", 1024), ("Mi", MIB), ("Gi", MIB * 1024), ("k", 1000),
                 ("M", 1_000_000), ("G", 1_000_000_000), ("Ti", MIB * MIB)][unit];
            let bytes = Quantity::parse(&format!("{n}{suffix}")).unwrap().bytes().unwrap();
            prop_assert_eq!(bytes, u128::from(n) * factor);
            prop_assert_eq!(parse_flink_memory(&flink_memory(bytes)), Some(bytes));
        }
    }
}
