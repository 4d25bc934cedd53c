//! A serde `Deserializer` adapter that refuses a sequence where the type wants a mapping.
//!
//! Serde fills a struct from a sequence by position: `zookeeper: [zk:2181]` would set
//! `quorum`, `metadata: [a]` the name. [`Strict`] wraps a deserializer and, through the
//! `SeqAccess`, `MapAccess` and `EnumAccess` it hands to visitors, every value below it (the
//! way `serde_path_to_error` and `serde_ignored` follow a document). Where a type asks for a
//! struct, a struct variant or a map and the data is a sequence, it fails with serde's
//! `invalid type: sequence, expected a mapping`; every other request is passed on unchanged,
//! so a type that takes anything (`serde_json::Value`) still decides for itself.
//!
//! It only knows what a type asks for, so it cannot see into types that buffer their input
//! before choosing how to read it: `#[serde(untagged)]` and internally tagged enums and
//! `#[serde(flatten)]` fields read the buffer with serde's own deserializer. The spec's tests
//! compare it with the JSON Schema at every field, so a spec type it cannot cover fails them.
//! This module builds no schema and allocates nothing of its own.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};

/// What a refused sequence was expected to be, as the error says it.
pub(super) const EXPECTED: &str = "a mapping";

/// The error for a sequence where a mapping is wanted.
pub(super) fn sequence_for_mapping<E: de::Error>() -> E {
    E::invalid_type(Unexpected::Seq, &EXPECTED)
}

/// Wraps a deserializer so that no struct or map below it is read from a sequence; inside,
/// it also wraps the seeds, sequences, maps and enums that pass this on to nested values.
pub(super) struct Strict<D>(pub(super) D);

/// A visitor that passes strictness on to what it visits; `mapping` when its type wants a
/// mapping, so a sequence is refused.
struct Wrap<V> {
    visitor: V,
    mapping: bool,
}

impl<V> Wrap<V> {
    fn any(visitor: V) -> Self {
        Self { visitor, mapping: false }
    }

    fn mapping(visitor: V) -> Self {
        Self { visitor, mapping: true }
    }
}

macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(
                self,
                $($arg: $ty,)*
                visitor: V,
            ) -> Result<V::Value, D::Error> {
                self.0.$method($($arg,)* Wrap::any(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    /// A map is read as any value so that a sequence reaches the visitor: `serde_json`'s
    /// `Value` refuses one inside `deserialize_map`, with its own wording. For every other
    /// value both requests give the same result and the same error.
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(Wrap::mapping(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, Wrap::mapping(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                self.visitor.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(formatter)
    }

    forward_visit! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.visitor.visit_some(Strict(deserializer))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.visitor.visit_newtype_struct(Strict(deserializer))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        if self.mapping {
            return Err(sequence_for_mapping());
        }
        self.visitor.visit_seq(Strict(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_map(Strict(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_enum(Strict(data))
    }
}

/// Hands out the values of a sequence, map or enum wrapped in turn.
impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Strict<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict(deserializer))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Strict<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Strict(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Strict<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Strict(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Strict(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Strict<A> {
    type Error = A::Error;
    type Variant = Strict<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(Strict(seed))?;
        Ok((value, Strict(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Strict<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Strict(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap::any(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Wrap::mapping(visitor))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    use super::Strict;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Pair {
        a: String,
        #[serde(default)]
        b: Option<String>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Newtype(Pair);

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(transparent)]
    struct Transparent(Pair);

    #[derive(Debug, PartialEq, Deserialize)]
    enum Choice {
        Unit,
        New(Pair),
        Tuple(String, String),
        Struct { a: String },
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        Text(String),
        Pair(Pair),
    }

    #[derive(Debug, PartialEq, Default, Deserialize)]
    #[serde(default)]
    struct Flat {
        inner: Option<Pair>,
    }

    #[derive(Debug, PartialEq, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Holder {
        pair: Option<Pair>,
        pairs: Vec<Pair>,
        lists: Vec<Vec<Pair>>,
        by_name: BTreeMap<String, Pair>,
        optional_map: Option<BTreeMap<String, Pair>>,
        names: Vec<String>,
        tuple: Option<(String, u8)>,
        newtype: Option<Newtype>,
        transparent: Option<Transparent>,
        choice: Option<Choice>,
        choices: Vec<Choice>,
        untagged: Option<Untagged>,
        value: Value,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Flattening {
        #[serde(flatten)]
        flat: Flat,
    }

    /// Reads `value` through [`Strict`]: the value, or `path: message`.
    fn read<T: DeserializeOwned>(value: Value) -> Result<T, String> {
        serde_path_to_error::deserialize(Strict(value))
            .map_err(|err| format!("{}: {}", err.path(), err.inner()))
    }

    const REFUSED: &str = "invalid type: sequence, expected a mapping";

    #[test]
    fn a_sequence_is_refused_wherever_a_mapping_is_wanted() {
        let cases = [
            (json!(["x", "y"]), "."),
            (json!({"pair": ["x", "y"]}), "pair"),
            (json!({"pair": []}), "pair"),
            (json!({"pairs": [{"a": "x"}, ["x", "y"]]}), "pairs[1]"),
            (json!({"lists": [[{"a": "x"}], [["x"]]]}), "lists[1][0]"),
            (json!({"by_name": ["x"]}), "by_name"),
            (json!({"by_name": {"k": ["x", "y"]}}), "by_name.k"),
            (json!({"optional_map": [["k", {"a": "x"}]]}), "optional_map"),
            (json!({"newtype": ["x"]}), "newtype"),
            (json!({"transparent": ["x"]}), "transparent"),
            (json!({"choice": {"New": ["x"]}}), "choice.New"),
            (json!({"choices": [{"New": {"a": "x"}}, {"New": ["x"]}]}), "choices[1].New"),
        ];
        for (value, path) in cases {
            assert_eq!(read::<Holder>(value.clone()), Err(format!("{path}: {REFUSED}")), "{value}");
        }
        // serde_json refuses a sequence for a struct variant itself.
        let err = read::<Holder>(json!({"choice": {"Struct": ["x"]}})).unwrap_err();
        assert_eq!(err, "choice.Struct: invalid type: sequence, expected struct variant");
        // The struct holding a flattened field is read as a map.
        assert_eq!(read::<Flattening>(json!(["x"])), Err(format!(".: {REFUSED}")));
    }

    #[test]
    fn sequences_where_the_type_takes_one_still_read() {
        let holder: Holder = read(json!({
            "pair": {"a": "x", "b": null},
            "pairs": [{"a": "x"}, {"a": "y", "b": "z"}],
            "lists": [[], [{"a": "x"}]],
            "by_name": {"k": {"a": "x"}},
            "names": ["x", "y"],
            "tuple": ["x", 1],
            "newtype": {"a": "x"},
            "transparent": {"a": "x"},
            "choices": ["Unit", {"New": {"a": "x"}}, {"Tuple": ["x", "y"]}, {"Struct": {"a": "x"}}],
            "untagged": {"a": "x"},
            "value": [["any"], {"k": [1, [2]]}],
        }))
        .unwrap();
        assert_eq!(holder.pairs[1], Pair { a: "y".into(), b: Some("z".into()) });
        assert_eq!(holder.tuple, Some(("x".into(), 1)));
        assert_eq!(holder.choices[2], Choice::Tuple("x".into(), "y".into()));
        assert_eq!(holder.value, json!([["any"], {"k": [1, [2]]}]));
        assert_eq!(read::<Holder>(json!({})), Ok(Holder::default()));
    }

    #[test]
    fn other_wrong_types_keep_serdes_message() {
        for (value, message) in [
            (json!({"pair": "x"}), "pair: invalid type: string \"x\", expected struct Pair"),
            (json!({"by_name": "x"}), "by_name: invalid type: string \"x\", expected a map"),
            (json!({"by_name": 1}), "by_name: invalid type: integer `1`, expected a map"),
            (json!({"by_name": true}), "by_name: invalid type: boolean `true`, expected a map"),
            (json!({"names": [["x"]]}), "names[0]: invalid type: sequence, expected a string"),
            (json!({"pair": {"a": ["x"]}}), "pair.a: invalid type: sequence, expected a string"),
        ] {
            assert_eq!(read::<Holder>(value), Err(message.to_owned()));
        }
    }

    /// Types that buffer their input read it with serde's own deserializer: there a struct
    /// still takes a sequence. The spec's tests compare with the schema to keep such types
    /// out of it.
    #[test]
    fn buffering_types_are_beyond_its_reach() {
        let untagged: Holder = read(json!({"untagged": ["x"]})).unwrap();
        assert_eq!(untagged.untagged, Some(Untagged::Pair(Pair { a: "x".into(), b: None })));
        let flattening: Flattening = read(json!({"inner": ["x"]})).unwrap();
        assert_eq!(flattening.flat.inner, Some(Pair { a: "x".into(), b: None }));
    }
}
