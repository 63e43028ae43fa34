//! The one random number generator of the crate: xoshiro128++ seeded through
//! SplitMix64. Small, fast on 32-bit wasm, and bit-identical everywhere, so
//! a seed names a run.

/// Seeded pseudo-random generator (xoshiro128++).
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u32; 4],
    /// Box-Muller makes normals in pairs; the second waits here.
    spare_normal: Option<f32>,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        // SplitMix64 spreads any seed (0 included) over the whole state.
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        let a = next();
        let b = next();
        Rng {
            s: [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32],
            spare_normal: None,
        }
    }

    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// Uniform in [0, 1), with 24 bits of precision (all an f32 holds).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// Uniform in [low, high).
    pub fn uniform_range(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.uniform()
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - u keeps the log argument in (0, 1].
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        let radius = libm::sqrtf(-2.0 * libm::logf(u1));
        let angle = 2.0 * core::f32::consts::PI * u2;
        self.spare_normal = Some(radius * libm::sinf(angle));
        radius * libm::cosf(angle)
    }

    /// Uniform integer in [0, n), without modulo bias (Lemire's method).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0 && n <= u32::MAX as usize, "Rng::below needs 0 < n < 2^32");
        let n = n as u32;
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u64::from(self.next_u32()) * u64::from(n);
            if (m as u32) >= threshold {
                return (m >> 32) as usize;
            }
        }
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_seeds_differ() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xs: alloc::vec::Vec<u32> = (0..16).map(|_| a.next_u32()).collect();
        let ys: alloc::vec::Vec<u32> = (0..16).map(|_| b.next_u32()).collect();
        let zs: alloc::vec::Vec<u32> = (0..16).map(|_| c.next_u32()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let mut rng = Rng::new(1);
        let n = 20_000;
        let (mut su, mut sn, mut sn2) = (0.0f64, 0.0f64, 0.0f64);
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            su += f64::from(u);
            let z = f64::from(rng.normal());
            sn += z;
            sn2 += z * z;
        }
        let n = f64::from(n);
        assert!((su / n - 0.5).abs() < 0.01);
        assert!((sn / n).abs() < 0.03);
        assert!((sn2 / n - 1.0).abs() < 0.04);
    }

    #[test]
    fn below_covers_range_and_shuffle_is_a_permutation() {
        let mut rng = Rng::new(3);
        let mut seen = [0usize; 5];
        for _ in 0..1000 {
            seen[rng.below(5)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 150));
        let mut v: alloc::vec::Vec<usize> = (0..50).collect();
        rng.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<alloc::vec::Vec<_>>());
        assert_ne!(v, sorted);
    }
}
