@_spi(Fuzzing) import QuiverFiles

/// libFuzzer's entry point: reads the bytes as a .npy file of vectors, and as the token
/// matrix or the offsets of multi-vector documents.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // Safety: libFuzzer passes `count` readable bytes at `start` for this call.
    let bytes = unsafe Array(UnsafeRawBufferPointer(start: start, count: count))
    QuiverFilesFuzzing.npy(bytes)
    QuiverFilesFuzzing.multiVectorNpy(bytes)
    return 0
}
