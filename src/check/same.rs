//! Whether a typed object serializes to exactly a given JSON tree, found without building
//! the tree it serializes to.
//!
//! The check reads each rendered object into its k8s-openapi type and must then know whether
//! anything was lost or changed. Almost always nothing was: the object serializes to the very
//! tree it was read from, and this walk, which compares as the object serializes and allocates
//! nothing, says so. Only otherwise is the typed tree built and compared field by field.

use std::fmt;

use serde::ser::{self, Serialize};
use serde_json::{Map, Value};

/// Whether `serde_json::to_value(object)` would equal `expected`.
pub fn serializes_to<T: Serialize>(object: &T, expected: &Value) -> bool {
    object.serialize(Expect(expected)).is_ok()
}

/// What the object serializes to differs from what was expected (or takes a form this walk
/// does not follow, such as an enum variant with data: the full comparison then decides).
#[derive(Debug)]
pub struct Differs;

impl fmt::Display for Differs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("differs")
    }
}

impl std::error::Error for Differs {}

impl ser::Error for Differs {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Differs
    }
}

fn equal(same: bool) -> Result<(), Differs> {
    if same { Ok(()) } else { Err(Differs) }
}

/// A serializer that compares what it is given with `self.0`.
struct Expect<'a>(&'a Value);

/// The items of an expected array, compared one by one; all must be used.
struct Items<'a>(std::slice::Iter<'a, Value>);

/// The entries of an expected object; each field must be there, and no other.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    found: usize,
    /// The expected value of the map entry whose key was just serialized.
    value: Option<&'a Value>,
}

impl<'a> Expect<'a> {
    fn items(&self) -> Result<Items<'a>, Differs> {
        self.0.as_array().map(|items| Items(items.iter())).ok_or(Differs)
    }

    fn fields(&self) -> Result<Fields<'a>, Differs> {
        self.0.as_object().map(|map| Fields { map, found: 0, value: None }).ok_or(Differs)
    }
}

/// Methods whose value converts to a `Value` without allocating, compared that way: exactly
/// as `to_value` would make it (`Value`'s own `== 2.0` also matches the integer 2).
macro_rules! compare_as_value {
    ($($method:ident: $type:ty),* $(,)?) => {
        $(#[allow(clippy::cmp_owned)]
        fn $method(self, v: $type) -> Result<(), Differs> {
            equal(*self.0 == Value::from(v))
        })*
    };
}

impl<'a> ser::Serializer for Expect<'a> {
    type Ok = ();
    type Error = Differs;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = ser::Impossible<(), Differs>;
    type SerializeMap = Fields<'a>;
    type SerializeStruct = Fields<'a>;
    type SerializeStructVariant = ser::Impossible<(), Differs>;

    compare_as_value! {
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_f32: f32, serialize_f64: f64,
    }

    #[allow(clippy::cmp_owned)] // as in `compare_as_value`
    fn serialize_i128(self, v: i128) -> Result<(), Differs> {
        equal(i64::try_from(v).is_ok_and(|v| *self.0 == Value::from(v)))
    }

    #[allow(clippy::cmp_owned)] // as in `compare_as_value`
    fn serialize_u128(self, v: u128) -> Result<(), Differs> {
        equal(u64::try_from(v).is_ok_and(|v| *self.0 == Value::from(v)))
    }

    fn serialize_char(self, v: char) -> Result<(), Differs> {
        equal(self.0.as_str() == Some(v.encode_utf8(&mut [0; 4])))
    }

    fn serialize_str(self, v: &str) -> Result<(), Differs> {
        equal(self.0.as_str() == Some(v))
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Differs> {
        Err(Differs)
    }

    fn serialize_none(self) -> Result<(), Differs> {
        equal(self.0.is_null())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Differs> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Differs> {
        equal(self.0.is_null())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Differs> {
        equal(self.0.is_null())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Differs> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Differs> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Differs> {
        Err(Differs)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Items<'a>, Differs> {
        self.items()
    }

    fn serialize_tuple(self, _: usize) -> Result<Items<'a>, Differs> {
        self.items()
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Items<'a>, Differs> {
        self.items()
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Differs> {
        Err(Differs)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Fields<'a>, Differs> {
        self.fields()
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'a>, Differs> {
        self.fields()
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Differs> {
        Err(Differs)
    }
}

impl Items<'_> {
    fn next<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
        value.serialize(Expect(self.0.next().ok_or(Differs)?))
    }

    fn all_used(mut self) -> Result<(), Differs> {
        equal(self.0.next().is_none())
    }
}

/// The three ways of serializing a sequence, each compared item by item.
macro_rules! compare_items {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for Items<'_> {
            type Ok = ();
            type Error = Differs;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
                self.next(value)
            }

            fn end(self) -> Result<(), Differs> {
                self.all_used()
            }
        })*
    };
}

compare_items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl Fields<'_> {
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Differs> {
        let expected = self.map.get(key).ok_or(Differs)?;
        self.found += 1;
        value.serialize(Expect(expected))
    }

    fn all_found(&self) -> Result<(), Differs> {
        equal(self.found == self.map.len())
    }
}

impl ser::SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = Differs;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Differs> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Differs> {
        self.all_found()
    }
}

impl ser::SerializeMap for Fields<'_> {
    type Ok = ();
    type Error = Differs;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Differs> {
        // serde_json writes map keys as strings; a key that is not one takes the full path.
        self.value = Some(key.serialize(KeyLookup(self.map))?);
        self.found += 1;
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
        value.serialize(Expect(self.value.take().ok_or(Differs)?))
    }

    fn end(self) -> Result<(), Differs> {
        self.all_found()
    }
}

/// Looks up a map key that serializes as a string in the expected object.
struct KeyLookup<'a>(&'a Map<String, Value>);

/// Methods `KeyLookup` refuses: every form of key but a string.
macro_rules! not_a_string_key {
    ($($method:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ok, Differs> { Err(Differs) })*
    };
}

impl<'k> ser::Serializer for KeyLookup<'k> {
    type Ok = &'k Value;
    type Error = Differs;
    type SerializeSeq = ser::Impossible<&'k Value, Differs>;
    type SerializeTuple = ser::Impossible<&'k Value, Differs>;
    type SerializeTupleStruct = ser::Impossible<&'k Value, Differs>;
    type SerializeTupleVariant = ser::Impossible<&'k Value, Differs>;
    type SerializeMap = ser::Impossible<&'k Value, Differs>;
    type SerializeStruct = ser::Impossible<&'k Value, Differs>;
    type SerializeStructVariant = ser::Impossible<&'k Value, Differs>;

    fn serialize_str(self, key: &str) -> Result<&'k Value, Differs> {
        self.0.get(key).ok_or(Differs)
    }

    not_a_string_key! {
        serialize_bool(bool) -> &'k Value;
        serialize_i8(i8) -> &'k Value;
        serialize_i16(i16) -> &'k Value;
        serialize_i32(i32) -> &'k Value;
        serialize_i64(i64) -> &'k Value;
        serialize_u8(u8) -> &'k Value;
        serialize_u16(u16) -> &'k Value;
        serialize_u32(u32) -> &'k Value;
        serialize_u64(u64) -> &'k Value;
        serialize_f32(f32) -> &'k Value;
        serialize_f64(f64) -> &'k Value;
        serialize_char(char) -> &'k Value;
        serialize_bytes(&[u8]) -> &'k Value;
        serialize_none() -> &'k Value;
        serialize_unit() -> &'k Value;
        serialize_unit_struct(&'static str) -> &'k Value;
        serialize_unit_variant(&'static str, u32, &'static str) -> &'k Value;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<&'k Value, Differs> {
        Err(Differs)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<&'k Value, Differs> {
        Err(Differs)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<&'k Value, Differs> {
        Err(Differs)
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Service;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "a", "labels": {"app": "a", "x/y": "z"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "a"}},
                "template": {
                    "metadata": {"labels": {"app": "a"}, "annotations": {}},
                    "spec": {
                        "securityContext": {},
                        "volumes": [{"name": "v", "emptyDir": {}}],
                        "containers": [{
                            "name": "c", "image": "i", "args": ["--a", "b"], "env": [],
                            "ports": [{"name": "rpc", "containerPort": 6123}],
                            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                            "livenessProbe": {"tcpSocket": {"port": "rpc"}, "periodSeconds": 10},
                        }],
                    },
                },
            },
        })
    }

    fn service() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"type": "NodePort", "selector": {"app": "a"},
                     "ports": [{"name": "ui", "port": 8081, "targetPort": 8081}]},
        })
    }

    /// What the check asks: `T` read from `value`, compared with `value`.
    fn agrees<T: for<'de> Deserialize<'de> + Serialize>(value: &Value) {
        if let Ok(object) = T::deserialize(value) {
            let full = serde_json::to_value(&object).unwrap() == *value;
            assert_eq!(serializes_to(&object, value), full, "{value}");
        }
    }

    #[test]
    fn an_object_serializes_to_its_own_tree() {
        for value in [deployment(), service()] {
            let object = Deployment::deserialize(&value).map(|d| serde_json::to_value(d).unwrap());
            let object = object.unwrap_or_else(|_| {
                serde_json::to_value(Service::deserialize(&value).unwrap()).unwrap()
            });
            assert_eq!(object, value);
        }
        assert!(serializes_to(&Deployment::deserialize(&deployment()).unwrap(), &deployment()));
        assert!(serializes_to(&Service::deserialize(&service()).unwrap(), &service()));
    }

    #[test]
    fn any_difference_is_found() {
        let object = Service::deserialize(&service()).unwrap();
        for changed in [
            json!({"spec": {"typo": 1}}),                   // a field the type lacks
            json!({"spec": {"externalIPs": null}}),         // null: dropped
            json!({"spec": {"ports": [{"port": 8081.0}]}}), // a float for an integer
            json!({"spec": {"ports": [{"targetPort": "8081"}]}}),
            json!({"metadata": {"name": "t"}}),
        ] {
            let mut value = service();
            merge(&mut value, &changed);
            assert!(!serializes_to(&object, &value), "{value}");
        }
        let mut value = service();
        value["spec"]["ports"].as_array_mut().unwrap().push(json!({"port": 1}));
        assert!(!serializes_to(&object, &value));
        value["spec"]["ports"] = json!([]);
        assert!(!serializes_to(&object, &value));
        assert!(!serializes_to(&object, &json!([])));
    }

    fn merge(value: &mut Value, patch: &Value) {
        match (value, patch) {
            (Value::Object(map), Value::Object(patch)) => {
                for (key, part) in patch {
                    merge(map.entry(key.clone()).or_insert(Value::Null), part);
                }
            }
            (Value::Array(items), Value::Array(patch)) => {
                for (item, part) in items.iter_mut().zip(patch) {
                    merge(item, part);
                }
            }
            (value, patch) => *value = patch.clone(),
        }
    }

    /// Every node of a tree, as JSON pointers.
    fn pointers(value: &Value, at: &str, out: &mut Vec<String>) {
        out.push(at.to_owned());
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    pointers(
                        v,
                        &format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    pointers(v, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    fn replacement() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            Just(json!(1)),
            Just(json!(-1)),
            Just(json!(1.5)),
            Just(json!(2.0)),
            Just(json!("1")),
            Just(json!(true)),
            Just(json!([])),
            Just(json!({})),
            Just(json!({"x": 1})),
            Just(json!(["a"])),
        ]
    }

    proptest! {
        /// One node replaced, removed or given an extra field: the walk agrees with building
        /// the tree and comparing, whether the object is read from the changed tree (as the
        /// check does) or from the original.
        #[test]
        fn the_walk_agrees_with_building_the_tree(
            pick in any::<prop::sample::Index>(),
            how in 0..3u8,
            new in replacement(),
        ) {
            for original in [deployment(), service()] {
                let mut all = Vec::new();
                pointers(&original, "", &mut all);
                let pointer = pick.get(&all);
                let mut value = original.clone();
                match how {
                    0 => *value.pointer_mut(pointer).unwrap() = new.clone(),
                    1 => {
                        let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", ""));
                        match value.pointer_mut(parent) {
                            Some(Value::Object(map)) => { map.remove(&last.replace("~1", "/").replace("~0", "~")); }
                            Some(Value::Array(items)) => { items.remove(last.parse().unwrap_or(0)); }
                            _ => {}
                        }
                    }
                    _ => {
                        if let Some(Value::Object(map)) = value.pointer_mut(pointer) {
                            map.insert("extra".into(), new.clone());
                        }
                    }
                }
                agrees::<Deployment>(&value);
                agrees::<Service>(&value);
                if let Ok(object) = Deployment::deserialize(&original) {
                    prop_assert_eq!(serializes_to(&object, &value), serde_json::to_value(&object).unwrap() == value);
                }
            }
        }
    }
}
