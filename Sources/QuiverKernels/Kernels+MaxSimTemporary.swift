extension Kernels {
    // Replaced by the SIMD kernel (branch maxsim-kernel) at merge.
    public static func maxSim(query: UnsafePointer<Float>, queryCount: Int, tokens: UnsafePointer<UnsafeRawPointer>, tokenCount: Int,
                              dimensions: Int, best: UnsafeMutablePointer<Float>) -> Float {
        guard queryCount > 0, tokenCount > 0 else { return 0 }
        var total: Float = 0
        for i in 0..<queryCount {
            var m = -Float.infinity
            for j in 0..<tokenCount { m = Swift.max(m, unsafe dot(query + i * dimensions, tokens[j], count: dimensions)) }
            unsafe best[i] = m
            total += m
        }
        return total
    }
}
