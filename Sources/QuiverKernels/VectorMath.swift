import CQuiverKernels

/// Norms and normalization of float vectors in place.
public enum VectorMath {
    /// Returns the Euclidean norm of a vector.
    ///
    /// The squared norm comes from the dot kernel (`qv_dot_f32`) in `Float`, so a vector whose
    /// squared norm exceeds `Float.greatestFiniteMagnitude` has norm `+infinity`.
    ///
    /// - Parameters:
    ///   - vector: `count` floats.
    ///   - count: The number of dimensions.
    /// - Returns: `sqrt(Σ vector[i]²)`.
    /// - Precondition: `count >= 0`.
    @inlinable
    public static func norm(_ vector: UnsafePointer<Float>, count: Int) -> Float {
        precondition(count >= 0, "negative dimension count")
        // Safety: the kernel reads `count` floats from `vector`.
        return unsafe qv_dot_f32(vector, vector, count).squareRoot()
    }

    /// Scales a vector in place to unit length and returns its original norm.
    ///
    /// Each component is divided by the norm (not multiplied by its inverse) for correct
    /// rounding; normalizing happens once per stored vector, so the cost does not matter. A
    /// vector whose norm is zero, infinite or NaN is left as it is, and that norm is returned,
    /// so callers can reject it.
    ///
    /// - Parameters:
    ///   - vector: `count` floats, overwritten.
    ///   - count: The number of dimensions.
    /// - Returns: The norm before scaling.
    /// - Precondition: `count >= 0`.
    @discardableResult
    public static func normalize(_ vector: UnsafeMutablePointer<Float>, count: Int) -> Float {
        let length = unsafe norm(vector, count: count)
        guard length > 0 && length.isFinite else { return length }
        for i in 0..<count {
            // Safety: i < count, and the caller passes `count` writable floats.
            unsafe vector[i] /= length
        }
        return length
    }
}
