// Tape: reverse-mode differentiation by recording one backward closure per operation.
//
// Design: a tape (Wengert list), not an explicit backward per layer. Every operation in Ops/
// computes its result at once (eager, like PyTorch) and, when an input requires a gradient,
// appends a closure that maps the result's gradient to its inputs' gradients. `backward` runs
// the closures in reverse order. Why a tape: the same op set must serve a graph-attention
// network, MLP heads, a Performer and an Exceiver; with a tape each op's gradient is written
// and tested once, and a model is plain forward code — no layer has to hand-derive and
// hand-order the backward pass of its composition, which is where bugs hide. The cost is one
// closure per op (tens per step), negligible beside the matrix products.
//
// Record order is a topological order of the computation, so running it backwards visits a
// result only after every consumer has added its share to the result's gradient.
// Gradients accumulate in a fixed sequential order: the same inputs give bit-identical
// gradients whatever the thread count (see docs/ENGINE.md, "Determinism").
//
// Memory: every step allocates and frees the same large buffers. glibc serves blocks over its
// mmap threshold with fresh zero pages each time (a page fault per 4 KiB), so the first tape
// raises the threshold to 256 MiB, letting freed buffers be reused — the role PyTorch's caching
// allocator plays — and turns trimming off: a pretrain step at dim 64 × depth 4 frees more than
// 512 MiB at its end, which glibc handed back to the system and faulted in again, page by page,
// the next step (a third of the step's time in the kernel's page clearing). The process keeps its
// peak heap instead. Results do not depend on it.

#if canImport(Glibc)
import Glibc
import Kernels
#endif

/// Records operations for one forward pass and runs them backwards.
///
/// One tape per training step: build the loss with the tape's operations, call `backward(loss)`,
/// step the optimiser. `backward` empties the tape. For evaluation without gradients set
/// `recording = false` (nothing is stored; dropout still follows `training`).
public final class Tape {
    /// Training mode: dropout is active. In evaluation mode dropout is the identity.
    public var training: Bool
    /// When false, no backward closures are kept, whatever the inputs.
    public var recording: Bool
    /// The generator dropout draws its masks from.
    public var rng: Xoshiro256

    private var steps: [() -> Void] = []

    /// - Parameters:
    ///   - training: whether dropout is active.
    ///   - seed: seeds the dropout generator.
    public init(training: Bool = true, recording: Bool = true, seed: UInt64 = 0) {
        self.training = training
        self.recording = recording
        self.rng = Xoshiro256(seed: seed)
        _ = Tape.reuseFreedMemory
    }

    /// Done once per process (see the file comment).
    private static let reuseFreedMemory: Bool = {
        #if canImport(Glibc)
        // mallopt is not exported by Swift's Glibc module: look it up in the C library.
        // <malloc.h>: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        if let symbol = dlsym(nil, "mallopt") {
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            _ = mallopt(-3, 256 << 20)
            _ = mallopt(-1, Int32.max)
        }
        #endif
        return true
    }()

    /// The number of recorded operations.
    public var count: Int { steps.count }

    /// Whether an operation on these inputs must be recorded.
    @inline(__always)
    func tracks(_ inputs: Tensor...) -> Bool {
        recording && inputs.contains { $0.requiresGrad }
    }

    /// Whether an operation on these inputs must be recorded.
    @inline(__always)
    func tracks(_ inputs: [Tensor]) -> Bool {
        recording && inputs.contains { $0.requiresGrad }
    }

    /// Appends a backward closure (called only by operations whose inputs are tracked).
    @inline(__always)
    func record(_ step: @escaping () -> Void) { steps.append(step) }

    /// Back-propagates from `output`, accumulating into every tracked tensor's `grad`, then empties the tape.
    ///
    /// - Parameters:
    ///   - output: usually the scalar loss.
    ///   - seed: d(loss)/d(output); defaults to ones (for a scalar loss: dloss/dloss = 1).
    public func backward(_ output: Tensor, seed: [Float]? = nil) {
        let s = seed ?? [Float](repeating: 1, count: output.count)
        precondition(s.count == output.count, "Tape.backward: seed has \(s.count) values, output \(output.count)")
        if output.requiresGrad {
            output.accumulateGrad { g in for i in 0..<g.count { g[i] += s[i] } }
            for step in steps.reversed() { step() }
        }
        steps.removeAll(keepingCapacity: true)
    }

    /// A result tensor that requires a gradient when `tracked`.
    @inline(__always)
    func result(_ data: [Float], _ shape: [Int], _ tracked: Bool) -> Tensor {
        Tensor(data, shape: shape, requiresGrad: tracked)
    }
}
