//! Shamir secret sharing over GF(2^8), compatible with HashiCorp Vault's
//! `shamir` package, which sops uses for several key groups: each share is
//! `y_1..y_n || x`, and the secret is the byte-wise Lagrange interpolation
//! of the shares at x = 0 (AES polynomial 0x11B).

use anyhow::{Result, bail};
use zeroize::Zeroizing;

fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut r = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            r ^= a;
        }
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= 0x1B;
        }
        b >>= 1;
    }
    r
}

fn inverse(a: u8) -> u8 {
    // a^254 = a^-1 in GF(2^8).
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e != 0 {
        if e & 1 != 0 {
            result = mul(result, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    result
}

/// Recombines shares (each `secret.len() + 1` bytes, x last).
pub fn combine(shares: &[Zeroizing<Vec<u8>>]) -> Result<Zeroizing<Vec<u8>>> {
    if shares.len() < 2 {
        bail!("at least two key-group shares are needed");
    }
    let len = shares[0].len();
    if len < 2 || shares.iter().any(|s| s.len() != len) {
        bail!("key-group shares have inconsistent lengths");
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            bail!("duplicate key-group share");
        }
    }
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (byte, out) in secret.iter_mut().enumerate() {
        let mut acc = 0u8;
        for (i, share) in shares.iter().enumerate() {
            let mut basis = 1u8;
            for (j, xj) in xs.iter().enumerate() {
                if i != j {
                    basis = mul(basis, mul(*xj, inverse(xs[i] ^ xj)));
                }
            }
            acc ^= mul(share[byte], basis);
        }
        *out = acc;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits like Vault (random polynomial per byte, x = 1..=n) for the test.
    fn split(secret: &[u8], n: u8, t: usize) -> Vec<Zeroizing<Vec<u8>>> {
        let coeffs: Vec<Vec<u8>> = secret
            .iter()
            .map(|s| {
                let mut c = vec![*s];
                c.extend((1..t).map(|k| (k as u8).wrapping_mul(37).wrapping_add(*s)));
                c
            })
            .collect();
        (1..=n)
            .map(|x| {
                let mut share: Vec<u8> = coeffs
                    .iter()
                    .map(|c| c.iter().rev().fold(0u8, |acc, coef| mul(acc, x) ^ coef))
                    .collect();
                share.push(x);
                Zeroizing::new(share)
            })
            .collect()
    }

    #[test]
    fn field_inverse() {
        for a in 1..=255u8 {
            assert_eq!(mul(a, inverse(a)), 1, "{a}");
        }
    }

    #[test]
    fn any_threshold_subset_recovers_the_secret() {
        let secret: Vec<u8> = (0..32).collect();
        let shares = split(&secret, 3, 2);
        for pair in [[0, 1], [1, 2], [0, 2]] {
            let subset = vec![shares[pair[0]].clone(), shares[pair[1]].clone()];
            assert_eq!(&**combine(&subset).unwrap(), &secret[..]);
        }
    }
}
