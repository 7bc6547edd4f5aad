/// Encodes float vectors as packed sign bits, the codes that the Hamming kernels compare.
///
/// Bit layout (part of the stored format: changing it breaks every stored binary code):
/// dimension `i` is bit `i % 64` of word `i / 64`, least significant bit first, so dimension 0
/// is `words[0] & 1`. The bits after the last dimension in the last word are zero.
/// A dimension's bit is 1 iff its value is greater than zero; `0`, `-0` and NaN give 0.
public enum Binarize {
    /// Returns the number of 64-bit words a code of `dimensions` bits takes.
    ///
    /// - Parameter dimensions: The number of dimensions (bits).
    /// - Returns: `(dimensions + 63) / 64`.
    /// - Precondition: `dimensions >= 0`.
    @inlinable
    public static func wordCount(dimensions: Int) -> Int {
        precondition(dimensions >= 0, "negative dimension count")
        return (dimensions + 63) / 64
    }

    /// Writes the sign bits of `count` floats into `wordCount(dimensions: count)` words.
    ///
    /// Bit `i % 64` of `words[i / 64]` is set iff `floats[i] > 0`; trailing bits are zero.
    ///
    /// - Parameters:
    ///   - floats: `count` floats.
    ///   - count: The number of dimensions.
    ///   - words: Receives `wordCount(dimensions: count)` words; every one is written.
    /// - Precondition: `count >= 0`.
    /// - Complexity: O(count).
    public static func signBits(_ floats: UnsafePointer<Float>, count: Int, into words: UnsafeMutablePointer<UInt64>) {
        let wordTotal = wordCount(dimensions: count)
        for w in 0..<wordTotal {
            let start = w * 64
            let end = Swift.min(start + 64, count)
            var word: UInt64 = 0
            for i in start..<end {
                // Safety: i < count, and the caller passes `count` readable floats.
                let positive: UInt64 = unsafe floats[i] > 0 ? 1 : 0
                word |= positive << UInt64(i - start)
            }
            // Safety: w < wordCount(dimensions: count), which the caller provides.
            unsafe words[w] = word
        }
    }
}
