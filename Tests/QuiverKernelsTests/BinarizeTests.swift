import QuiverKernels
import Testing

@Suite("Binarize")
struct BinarizeTests {
    @Test("bit i of word i/64 is set iff floats[i] > 0, trailing bits zero", arguments: [1, 2, 63, 64, 65, 127, 128, 300, 384, 1_024])
    func signBits(dimensions: Int) {
        let seed: UInt64 = 0xB17_0000 + UInt64(dimensions)
        var random = SplitMix64(seed: seed)
        var floats = random.floats(dimensions)
        floats[0] = 0  // zero, negative zero and NaN are not positive
        if dimensions > 1 { floats[1] = -0.0 }
        if dimensions > 2 { floats[2] = .nan }
        if dimensions > 3 { floats[3] = .leastNonzeroMagnitude }
        let wordCount = Binarize.wordCount(dimensions: dimensions)
        var words = [UInt64](repeating: .max, count: wordCount + 1)  // .max: every word must be written
        unsafe floats.withUnsafeBufferPointer { f in
            unsafe Binarize.signBits(f.baseAddress!, count: dimensions, into: &words)
        }
        #expect(wordCount == (dimensions + 63) / 64)
        for i in 0..<(wordCount * 64) {
            let bit = (words[i / 64] >> UInt64(i % 64)) & 1 == 1
            let expected = i < dimensions && floats[i] > 0
            #expect(bit == expected, "dimension \(i) of \(dimensions), seed=\(seed)")
        }
        #expect(words[wordCount] == .max, "wrote past the code")
        if dimensions > 3 { #expect(words[0] & 0b1111 == 0b1000) }
    }

    @Test("Hamming distance of sign codes counts sign disagreements")
    func hammingOfCodes() {
        var random = SplitMix64(seed: 0xB17_0001)
        let a = random.floats(384), b = random.floats(384)
        var codeA = [UInt64](repeating: 0, count: 6), codeB = codeA
        unsafe a.withUnsafeBufferPointer { unsafe Binarize.signBits($0.baseAddress!, count: 384, into: &codeA) }
        unsafe b.withUnsafeBufferPointer { unsafe Binarize.signBits($0.baseAddress!, count: 384, into: &codeB) }
        let disagreements = (0..<384).filter { (a[$0] > 0) != (b[$0] > 0) }.count
        let distance = unsafe codeA.withUnsafeBufferPointer { pa in
            unsafe codeB.withUnsafeBytes { pb in unsafe Kernels.hamming(pa.baseAddress!, pb.baseAddress!, words: 6) }
        }
        #expect(Int(distance) == disagreements)
        #expect(Kernels.hammingReference(codeA, codeB) == distance)
    }
}
