import QuiverKernels

extension Database {
    /// The instruction set the distance kernels run on in this process: `avx512`, `avx2`,
    /// `sse2` or `scalar`, chosen once from the CPU (`QUIVER_KERNEL_ISA` may force a narrower
    /// one, for benchmarks).
    public static var kernelISA: String { Kernels.isa }
}
