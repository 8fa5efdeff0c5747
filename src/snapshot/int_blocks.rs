//! The fast path for the integer arrays' usual text, `n,n,n\n,…`, 64 bytes at a time: SSE2
//! compares find the digits, commas and blanks, and the layout is checked on bit masks (one number
//! between two commas, nothing else but blanks); each number is then read 8 digits at a time.
//! The careful per-byte parser (`parallel_array::parse_chunk`) takes over at the first block that
//! holds anything else — the array's `]`, a stray byte, a number of 16 digits or more — from the
//! last comma before it, so what it accepts and every error it reports are its own.
//!
//! Why: the per-byte parser spends most of its time on branches over blanks and separators;
//! here a 64-byte block costs a few dozen instructions whatever it holds, and each number a few
//! more (SSE2 is part of x86-64 itself: no detection needed).
// (elsewhere only the fallback below is used)
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
use super::scanner::swar_digits;

const BLOCK: usize = 64;
/// A number's digits are read 16 bytes at a time from its start, which can be a block's last byte.
const SLACK: usize = 16;

const POW10: [u64; 9] = [
  1,
  10,
  100,
  1_000,
  10_000,
  100_000,
  1_000_000,
  10_000_000,
  100_000_000,
];

/// Appends the values of the longest prefix of `bytes` made of whole blocks of plain
/// `digits ,` text (blanks allowed around numbers) to `vals`, and returns where that prefix ends:
/// just after a comma, or 0. The caller parses the rest.
#[cfg(target_arch = "x86_64")]
pub fn plain_prefix(bytes: &[u8], vals: &mut Vec<u64>) -> usize {
  let len = bytes.len();
  // where the committed values end (after a comma), and how many there are
  let (mut restart, mut committed) = (0usize, vals.len());
  // a number was read and its comma not yet seen; the byte before the block was a digit
  let (mut expect_comma, mut prev_digit) = (false, 0u64);
  let mut b = 0;
  // every value takes 2 bytes or more ("0,"): room for all of them, so the loop's stores need
  // no capacity check
  vals.reserve(len / 2 + 1);
  let out = vals.as_mut_ptr();
  let mut n_vals = vals.len();
  'blocks: while b + BLOCK + SLACK <= len {
    // SAFETY: b + 64 <= len; SSE2 is always there on x86-64
    let (d, c, w) = unsafe { masks(bytes.as_ptr().add(b)) };
    if d | c | w != u64::MAX {
      break; // a byte the careful parser must see
    }
    let starts = d & !((d << 1) | prev_digit);
    let tokens = starts | c;
    // counting the numbers and commas from the block's start, the odd ones (bit set) must be
    // numbers and the even ones commas (the other way round when a comma is due first)
    let odd = prefix_xor(tokens) ^ if expect_comma { u64::MAX } else { 0 };
    if starts & !odd != 0 || c & odd != 0 {
      break;
    }
    let mut m = starts;
    while m != 0 {
      let p = b + m.trailing_zeros() as usize;
      m &= m - 1;
      // SAFETY: p < b + 64, and b + 64 + 16 <= len
      let (v, n) = swar_digits_at(unsafe { bytes.as_ptr().add(p) });
      let v = if n < 8 {
        v
      } else {
        // SAFETY: p + 8 < b + 72, and b + 64 + 16 <= len
        let (low, n2) = swar_digits_at(unsafe { bytes.as_ptr().add(p + 8) });
        if n2 == 8 {
          break 'blocks; // 16 digits or more: the careful parser checks the range
        }
        v * POW10[n2] + low
      };
      // SAFETY: fewer values than len / 2 + 1 in all, which the reserve above made room for
      unsafe { out.add(n_vals).write(v) };
      n_vals += 1;
    }
    expect_comma ^= tokens.count_ones() & 1 == 1;
    if c != 0 {
      restart = b + BLOCK - c.leading_zeros() as usize;
      committed = n_vals - expect_comma as usize;
    }
    prev_digit = d >> 63;
    b += BLOCK;
  }
  // SAFETY: the first `committed` values are written (`committed` <= n_vals)
  unsafe { vals.set_len(committed) };
  restart
}

/// `swar_digits` on the 8 bytes at `p`.
#[inline(always)]
fn swar_digits_at(p: *const u8) -> (u64, usize) {
  // SAFETY: the caller's `p` is readable for 8 bytes
  let b: [u8; 8] = unsafe { p.cast::<[u8; 8]>().read_unaligned() };
  swar_digits(&b)
}

/// Elsewhere the careful parser does it all.
#[cfg(not(target_arch = "x86_64"))]
pub fn plain_prefix(_bytes: &[u8], _vals: &mut Vec<u64>) -> usize {
  0
}

/// Bit i set: bits 0..=i of `x` hold an odd number of ones.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  x
}

/// Digits, commas and blanks (space, tab, CR, LF) among the 64 bytes at `p`, a bit per byte.
///
/// # Safety
/// `p` must be readable for 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn masks(p: *const u8) -> (u64, u64, u64) {
  // SAFETY: SSE2 is part of every x86_64; `p` is readable for 64 bytes (the caller's contract)
  unsafe {
    use std::arch::x86_64::*;
    let (mut d, mut c, mut w) = (0u64, 0u64, 0u64);
    let set = |b: u8| _mm_set1_epi8(b as i8);
    for i in 0..4 {
      let x = _mm_loadu_si128(p.add(16 * i) as *const __m128i);
      // signed compares: bytes of 0x80 and above are negative, below '0'
      let digit = _mm_and_si128(_mm_cmpgt_epi8(x, set(b'0' - 1)), _mm_cmplt_epi8(x, set(b'9' + 1)));
      let comma = _mm_cmpeq_epi8(x, set(b','));
      let blank = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, set(b' ')), _mm_cmpeq_epi8(x, set(b'\n'))),
        _mm_or_si128(_mm_cmpeq_epi8(x, set(b'\r')), _mm_cmpeq_epi8(x, set(b'\t'))),
      );
      let bits = |m: __m128i| (_mm_movemask_epi8(m) as u32 as u64) << (16 * i);
      d |= bits(digit);
      c |= bits(comma);
      w |= bits(blank);
    }
    (d, c, w)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn prefix_xor_counts_parity() {
    for x in [
      0u64,
      1,
      0b1011,
      u64::MAX,
      0x8000_0000_0000_0001,
      0x1234_5678_9abc_def0,
    ] {
      let want = (0..64).fold(0u64, |acc, i| {
        acc | (((x & ((2u128 << i) - 1) as u64).count_ones() as u64 & 1) << i)
      });
      assert_eq!(prefix_xor(x), want, "{x:#x}");
    }
  }

  #[cfg(target_arch = "x86_64")]
  #[test]
  fn reads_plain_blocks_and_stops_after_a_comma() {
    let nums: Vec<u64> = (0..5000u64)
      .map(|i| (i * 2_654_435_761) % 10u64.pow((i % 15) as u32 + 1))
      .collect();
    let text: String = nums
      .iter()
      .enumerate()
      .map(|(i, n)| {
        if i % 7 == 6 {
          format!("{n}\n,")
        } else {
          format!("{n},")
        }
      })
      .collect();
    let mut vals = Vec::new();
    let end = plain_prefix(text.as_bytes(), &mut vals);
    assert!(
      end > text.len() - BLOCK - SLACK - 20 && text.as_bytes()[end - 1] == b',',
      "{end} of {}",
      text.len()
    );
    assert_eq!(vals[..], nums[..vals.len()]);
    assert_eq!(text[..end].matches(',').count(), vals.len());
  }
}
