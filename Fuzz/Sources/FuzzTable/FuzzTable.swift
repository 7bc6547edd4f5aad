@_spi(Fuzzing) import QuiverFiles

/// libFuzzer's entry point: reads the bytes as CSV, TSV and JSON Lines tables.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // Safety: libFuzzer passes `count` readable bytes at `start` for this call.
    let bytes = unsafe Array(UnsafeRawBufferPointer(start: start, count: count))
    QuiverFilesFuzzing.table(bytes)
    return 0
}
