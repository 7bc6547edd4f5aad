import Quiver

/// The instruction set of the distance kernels, reported by the benchmarks.
func kernelISA() -> String? {
    Database.kernelISA
}
