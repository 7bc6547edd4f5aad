@_spi(Fuzzing) import QuiverFiles

/// libFuzzer's entry point: reads the bytes as .fvecs, .bvecs and .ivecs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // Safety: libFuzzer passes `count` readable bytes at `start` for this call.
    let bytes = unsafe Array(UnsafeRawBufferPointer(start: start, count: count))
    QuiverFilesFuzzing.vecs(bytes)
    return 0
}
