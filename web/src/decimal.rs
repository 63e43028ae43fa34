//! The page's number parser: what `str::parse::<f64>` reads, in a fraction
//! of its code (std's correctly rounded parser brings a table of powers of
//! ten, about 14 KB of the page gzipped).
//!
//! It reads an optional sign, digits with at most one decimal point (at
//! least one digit in all), and an optional exponent (`e` or `E`, an
//! optional sign, digits), and returns the nearest f64, ties to even, as
//! std does: the same value for every string std reads as a finite number.
//! It refuses what std refuses, and also `inf`, `infinity` and `nan` and
//! numbers too large for an f64, which std reads as infinite or not a
//! number and the fields refused anyway.
//!
//! How: up to 19 significant digits times a power of ten up to 10^22 is
//! exact in f64 arithmetic after one rounding (the common case: "0.003",
//! "1e-4", "32"). Otherwise a first estimate, a few ulps off at most, is
//! corrected by comparing the decimal exactly, in big integers, with the
//! halfway points between neighbouring f64s.

use core::cmp::Ordering;

/// The nearest f64 to `text` (no surrounding spaces), or `None` when it is
/// not a decimal number or its magnitude rounds to infinity.
pub fn parse(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let mut digits: Vec<u8> = Vec::new();
    // The decimal exponent of the last digit read.
    let mut exponent: i64 = 0;
    let mut seen_digit = false;
    let mut seen_point = false;
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            d @ b'0'..=b'9' => {
                seen_digit = true;
                // Leading zeros carry no information; those after the point
                // still move it.
                if d != b'0' || !digits.is_empty() {
                    digits.push(d - b'0');
                }
                if seen_point {
                    exponent -= 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    if i < rest.len() {
        if rest[i] != b'e' && rest[i] != b'E' {
            return None;
        }
        let mut tail = &rest[i + 1..];
        let exponent_negative = match tail.first() {
            Some(b'-') => {
                tail = &tail[1..];
                true
            }
            Some(b'+') => {
                tail = &tail[1..];
                false
            }
            _ => false,
        };
        if tail.is_empty() || !tail.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // Saturates far beyond any f64: the value is then 0 or infinite.
        let written = tail
            .iter()
            .fold(0i64, |acc, &d| (acc * 10 + i64::from(d - b'0')).min(1 << 40));
        exponent += if exponent_negative { -written } else { written };
    }
    // The digits are an integer D; the number is D * 10^exponent. Trailing
    // zeros move to the exponent.
    while digits.last() == Some(&0) {
        digits.pop();
        exponent += 1;
    }
    let magnitude = if digits.is_empty() {
        0.0
    } else {
        nearest(&digits, exponent)?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Exact in f64: 10^0 to 10^22.
const POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// The nearest f64 to D * 10^exponent, D the digits (no leading or
/// trailing zero, at least one digit); `None` if it rounds to infinity.
fn nearest(digits: &[u8], exponent: i64) -> Option<f64> {
    let count = digits.len() as i64;
    // D * 10^exponent lies in [10^(count - 1 + exponent), 10^(count + exponent)).
    if count - 1 + exponent > 308 {
        return None;
    }
    if count + exponent < -324 {
        // Below 10^-324, less than half the smallest subnormal (4.9e-324).
        return Some(0.0);
    }
    let leading = digits.iter().take(19).fold(0u64, |acc, &d| acc * 10 + u64::from(d));
    if count <= 19 && leading < 1 << 53 && exponent.abs() <= 22 {
        // Both operands exact: one rounding, the right one.
        let d = leading as f64;
        let p = POWERS[exponent.unsigned_abs() as usize];
        return Some(if exponent < 0 { d / p } else { d * p });
    }
    // An estimate a few ulps off: the leading digits times the power of
    // ten, in steps of at most 10^22 (each step rounds once).
    let mut estimate = leading as f64;
    let mut scale = exponent + count - count.min(19);
    while scale != 0 && estimate.is_finite() && estimate != 0.0 {
        let step = scale.clamp(-22, 22);
        let p = POWERS[step.unsigned_abs() as usize];
        estimate = if step < 0 { estimate / p } else { estimate * p };
        scale -= step;
    }
    let mut z = if estimate.is_finite() { estimate } else { f64::MAX };
    // Then the exact comparison with the halfway points around z.
    let exact = Big::from_digits(digits);
    loop {
        let bits = z.to_bits();
        let odd = bits & 1 == 1;
        // Above the midpoint with the next f64 up (or on it, z odd): go up.
        match compare(&exact, exponent, z) {
            Ordering::Greater => {}
            Ordering::Equal if odd => {}
            _ => {
                if z == 0.0 {
                    return Some(0.0);
                }
                let below = f64::from_bits(bits - 1);
                // Below the midpoint with the next f64 down (or on it, z odd): go down.
                match compare(&exact, exponent, below) {
                    Ordering::Less => z = below,
                    Ordering::Equal if odd => z = below,
                    _ => return Some(z),
                }
                continue;
            }
        }
        if z == f64::MAX {
            return None;
        }
        z = f64::from_bits(bits + 1);
    }
}

/// D * 10^exponent against the midpoint of the positive finite (or zero)
/// `z` and the next f64 up.
fn compare(digits: &Big, exponent: i64, z: f64) -> Ordering {
    // z = m * 2^k exactly, m < 2^53; the midpoint is (2m + 1) * 2^(k - 1).
    let bits = z.to_bits();
    let biased = (bits >> 52) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (m, k) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    let mut left = digits.clone();
    let mut right = Big::from_u64(2 * m + 1);
    // D * 5^e * 2^e against (2m + 1) * 2^(k - 1): the powers of five on the
    // side where they are whole, then the powers of two.
    if exponent >= 0 {
        left.mul_pow5(exponent as u64);
    } else {
        right.mul_pow5(exponent.unsigned_abs());
    }
    let twos = exponent - (k - 1);
    if twos >= 0 {
        left.shl(twos as u64);
    } else {
        right.shl(twos.unsigned_abs());
    }
    left.cmp(&right)
}

/// A natural number in base 2^32, least significant limb first, no zero
/// limb at the top.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Self {
        let mut big = Big(vec![v as u32, (v >> 32) as u32]);
        big.trim();
        big
    }

    fn from_digits(digits: &[u8]) -> Self {
        let mut big = Big(Vec::new());
        for chunk in digits.chunks(9) {
            let value = chunk.iter().fold(0u32, |acc, &d| acc * 10 + u32::from(d));
            big.mul_add(10u32.pow(chunk.len() as u32), value);
        }
        big
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// self * factor + add.
    fn mul_add(&mut self, factor: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(factor) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn mul_pow5(&mut self, mut n: u64) {
        // 5^13 is the largest power of five below 2^32.
        while n > 0 {
            let step = n.min(13);
            self.mul_add(5u32.pow(step as u32), 0);
            n -= step;
        }
    }

    fn shl(&mut self, bits: u64) {
        if self.0.is_empty() {
            return;
        }
        let limbs = (bits / 32) as usize;
        let shift = (bits % 32) as u32;
        if shift != 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let v = (u64::from(*limb) << shift) | u64::from(carry);
                *limb = v as u32;
                carry = (v >> 32) as u32;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        self.0.splice(0..0, core::iter::repeat_n(0, limbs));
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What std reads, as the fields take it: finite numbers only.
    fn std_parse(text: &str) -> Option<f64> {
        text.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    fn check(text: &str) {
        let ours = parse(text);
        let theirs = std_parse(text);
        assert_eq!(
            ours.map(f64::to_bits),
            theirs.map(f64::to_bits),
            "{text:?}: ours {ours:?}, std {theirs:?}"
        );
    }

    #[test]
    fn what_the_fields_see_reads_as_std_reads_it() {
        for text in [
            "0",
            "-0",
            "+0",
            "1",
            "-1",
            "32",
            "0.003",
            "3e-3",
            "1e-4",
            "1E-4",
            "1e6",
            "2e6",
            "0.01",
            "0.02",
            "1000000",
            "9007199254740991",
            "9007199254740992",
            "9007199254740993",
            "9007199254740991.5",
            "2.5",
            "10.5",
            "0.999",
            "1.",
            ".5",
            "-.5",
            "+.5",
            "1.e3",
            "00012",
            "0.000",
            "1e0",
            "1e+3",
            "1e-0",
            "123456789012345678901234567890",
            "0.1",
            "0.2",
            "0.3",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "2e308",
            "1e309",
            "4.9e-324",
            "2.5e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "1e-400",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
            "1e22",
            "1e23",
            "8.98846567431158e307",
            "1e-7",
            "5e-324",
            "1e-320",
            "123.456e-7",
            "0.000000000000000000000000000001",
            "1e00000000000000000000001",
            "1e-99999999999999999999999",
            "0e99999999999999999",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "4503599627370496.5",
            "4503599627370497.5",
            "1.00000000000000011102230246251565",
            "1.00000000000000011102230246251566",
            "1.00000000000000011102230246251564",
        ] {
            check(text);
        }
    }

    #[test]
    fn what_std_refuses_is_refused() {
        for text in [
            "", " ", " 1", "1 ", "abc", ".", "-", "+", "e5", "1e", "1e+", "1e-", "1.2.3", "1,5", "1_000", "--1", "+-1",
            "0x10", "1f", "1e5.5", "NaN", "nan", "inf", "-inf", "infinity", "Infinity", "\u{661}", "1\u{0}", "١",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
            check(text);
        }
    }

    /// A few thousand strings from a small generator: numbers of every
    /// length and exponent, halfway cases, and near misses.
    #[test]
    fn many_strings_read_as_std_reads_them() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"0123456789.eE+-";
        for _ in 0..20_000 {
            let kind = next() % 4;
            let text = match kind {
                // A random f64's shortest form, and its neighbours' midpoint written out.
                0 => {
                    let v = f64::from_bits(next() >> 1);
                    if v.is_finite() {
                        format!("{v:e}")
                    } else {
                        continue;
                    }
                }
                // Decimal strings with many digits and a random exponent.
                1 => {
                    let len = 1 + next() % 40;
                    let digits: String = (0..len).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
                    let point = next() % (len + 1);
                    let exp = (next() % 700) as i64 - 350;
                    format!("{}.{}e{exp}", &digits[..point as usize], &digits[point as usize..])
                }
                // Random strings over the number's alphabet.
                2 => {
                    let len = 1 + next() % 8;
                    (0..len)
                        .map(|_| char::from(alphabet[(next() % alphabet.len() as u64) as usize]))
                        .collect()
                }
                // Exact halfway points between adjacent f64s, and a hair either side.
                _ => {
                    let v = f64::from_bits(next() % 0x7fe0_0000_0000_0000);
                    let (digits, e) = halfway(v);
                    match next() % 3 {
                        0 => format!("{digits}e{e}"),
                        1 => format!("{digits}1e{}", e - 1),
                        _ => format!("{}9e{}", decrement(&digits), e - 1),
                    }
                }
            };
            check(&text);
        }
    }

    /// The midpoint between `v` (positive) and the next f64 up, exactly:
    /// digits and a decimal exponent.
    fn halfway(v: f64) -> (String, i64) {
        let bits = v.to_bits();
        let biased = (bits >> 52) as i64;
        let fraction = bits & ((1 << 52) - 1);
        let (m, k) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | 1 << 52, biased - 1075)
        };
        // (2m + 1) * 2^e, and when e < 0: (2m + 1) * 5^-e * 10^e.
        let mut n = Big::from_u64(2 * m + 1);
        let e = k - 1;
        if e >= 0 {
            n.shl(e as u64);
            return (to_decimal(&n), 0);
        }
        n.mul_pow5(e.unsigned_abs());
        (to_decimal(&n), e)
    }

    /// A decimal string minus one (not zero).
    fn decrement(digits: &str) -> String {
        let mut bytes = digits.as_bytes().to_vec();
        for b in bytes.iter_mut().rev() {
            if *b == b'0' {
                *b = b'9';
            } else {
                *b -= 1;
                break;
            }
        }
        String::from_utf8(bytes).unwrap()
    }

    fn to_decimal(n: &Big) -> String {
        let mut limbs = n.0.clone();
        let mut out = Vec::new();
        while !limbs.is_empty() {
            let mut rem = 0u64;
            for limb in limbs.iter_mut().rev() {
                let v = (rem << 32) | u64::from(*limb);
                *limb = (v / 10) as u32;
                rem = v % 10;
            }
            out.push(b'0' + rem as u8);
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
        }
        if out.is_empty() {
            out.push(b'0');
        }
        out.reverse();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn big_numbers_compare_and_shift() {
        let mut a = Big::from_digits(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(to_decimal(&a), "10000000000");
        a.shl(40);
        assert_eq!(to_decimal(&a), (10_000_000_000u128 << 40).to_string());
        let mut b = Big::from_u64(3);
        b.mul_pow5(30);
        assert_eq!(to_decimal(&b), (3 * 5u128.pow(30)).to_string());
        assert_eq!(a.cmp(&b), Ordering::Greater);
        assert_eq!(b.cmp(&a), Ordering::Less);
        assert_eq!(a.cmp(&a.clone()), Ordering::Equal);
        assert_eq!(Big::from_u64(0), Big(vec![]));
    }
}
