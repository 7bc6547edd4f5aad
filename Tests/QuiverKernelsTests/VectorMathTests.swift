import QuiverKernels
import Testing

@Suite("VectorMath")
struct VectorMathTests {
    @Test("normalize returns the original norm and leaves a unit vector", arguments: [1, 3, 17, 384, 1_000])
    func normalize(dimensions: Int) {
        let seed: UInt64 = 0x4E0_0000 + UInt64(dimensions)
        var random = SplitMix64(seed: seed)
        let original = random.floats(dimensions).map { $0 * 40 }
        var vector = original
        let expectedNorm = Double(Kernels.dotReference(original, original)).squareRoot()
        let norm = unsafe vector.withUnsafeMutableBufferPointer { v in
            unsafe VectorMath.normalize(v.baseAddress!, count: dimensions)
        }
        #expect(abs(Double(norm) - expectedNorm) <= 1e-5 * expectedNorm, "seed=\(seed)")
        let unitNorm = unsafe vector.withUnsafeBufferPointer { v in unsafe VectorMath.norm(v.baseAddress!, count: dimensions) }
        #expect(abs(unitNorm - 1) <= 1e-5, "seed=\(seed)")
        for i in 0..<dimensions {
            #expect(abs(vector[i] - original[i] / norm) <= 1e-6 * abs(original[i] / norm) + 1e-12)
        }
    }

    @Test("a zero vector is left as it is and has norm 0")
    func zeroVector() {
        var vector = [Float](repeating: 0, count: 8)
        vector[3] = -0.0
        let norm = unsafe vector.withUnsafeMutableBufferPointer { unsafe VectorMath.normalize($0.baseAddress!, count: 8) }
        #expect(norm == 0)
        #expect(vector.allSatisfy { $0 == 0 })
        #expect(vector[3].sign == .minus)
    }

    @Test("a vector with a non-finite norm is left as it is")
    func infiniteVector() {
        var vector: [Float] = [1, .infinity, 2]
        let norm = unsafe vector.withUnsafeMutableBufferPointer { unsafe VectorMath.normalize($0.baseAddress!, count: 3) }
        #expect(norm == .infinity)
        #expect(vector == [1, .infinity, 2])
    }
}
