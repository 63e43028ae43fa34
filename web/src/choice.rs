//! `choice!`: an enum of named options for a `<select>` and a URL query,
//! written once. Each variant gets its key (in URLs and `<select>` values)
//! and its label (what the visitor reads); the macro writes `ALL`, `key`,
//! `label` and `from_key`, so no lab writes that boilerplate by hand.

/// ```ignore
/// choice! {
///     /// Which optimizer updates the weights.
///     pub enum OptimizerChoice {
///         Adam = ("adam", "Adam"),
///         Sgd = ("sgd", "SGD + momentum"),
///     }
/// }
/// ```
#[macro_export]
macro_rules! choice {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = ($key:literal, $label:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every option, in the order a `<select>` lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in URLs and `<select>` values.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            /// What the visitor reads.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn from_key(key: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.key() == key)
            }

            /// `(key, label)` pairs for a `SelectField`.
            pub fn options() -> Vec<(&'static str, &'static str)> {
                Self::ALL.iter().map(|c| (c.key(), c.label())).collect()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::choice! {
        enum Fruit {
            Apple = ("apple", "An apple"),
            Pear = ("pear", "A pear"),
        }
    }

    #[test]
    fn keys_round_trip_and_unknown_keys_are_refused() {
        for &fruit in Fruit::ALL {
            assert_eq!(Fruit::from_key(fruit.key()), Some(fruit));
        }
        assert_eq!(Fruit::Pear.label(), "A pear");
        assert_eq!(Fruit::options(), vec![("apple", "An apple"), ("pear", "A pear")]);
        assert_eq!(Fruit::from_key("plum"), None);
    }
}
