// Activations: element-wise functions and their derivatives — exp, log, sqrt, square, ReLU,
// LeakyReLU and ELU (C kernels), GELU (erf form), sigmoid, tanh, scaling and shifting by a constant.
//
// Each is a small struct with `value(x)` and `derivative(x, y)` (y = value(x), so functions whose
// derivative is cheapest from the output — exp, sigmoid, tanh — use it). One generic loop applies
// them; the compiler specialises it per struct, so there is no call per element.

import Foundation

/// An element-wise function and its derivative.
protocol ElementwiseFunction {
    func value(_ x: Float) -> Float
    /// dy/dx at x, given y = value(x).
    func derivative(_ x: Float, _ y: Float) -> Float
}

struct ExpFunction: ElementwiseFunction {
    func value(_ x: Float) -> Float { Foundation.exp(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { y }
}

struct LogFunction: ElementwiseFunction {
    func value(_ x: Float) -> Float { Foundation.log(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
}

struct SqrtFunction: ElementwiseFunction {
    func value(_ x: Float) -> Float { x.squareRoot() }
    func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
}

struct SquareFunction: ElementwiseFunction {
    func value(_ x: Float) -> Float { x * x }
    func derivative(_ x: Float, _ y: Float) -> Float { 2 * x }
}

struct AffineFunction: ElementwiseFunction {
    let scale: Float, shift: Float
    func value(_ x: Float) -> Float { x * scale + shift }
    func derivative(_ x: Float, _ y: Float) -> Float { scale }
}

struct GELUFunction: ElementwiseFunction {
    /// x · Φ(x) with Φ the standard normal CDF, via erf (PyTorch's default, approximate='none').
    func value(_ x: Float) -> Float { 0.5 * x * (1 + Foundation.erf(x * 0.70710678118654752)) }
    func derivative(_ x: Float, _ y: Float) -> Float {
        let cdf = 0.5 * (1 + Foundation.erf(x * 0.70710678118654752))
        let pdf = Foundation.exp(-0.5 * x * x) * 0.39894228040143268
        return cdf + x * pdf
    }
}

struct SigmoidFunction: ElementwiseFunction {
    func value(_ x: Float) -> Float {
        // Stable on both sides: exp of a non-positive number only.
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }
    func derivative(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
}

struct TanhFunction: ElementwiseFunction {
    func value(_ x: Float) -> Float { Foundation.tanh(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}

extension Tape {
    /// Applies `f` to every value; the gradient is g · f'(x).
    func elementwise<F: ElementwiseFunction>(_ x: Tensor, _ f: F) -> Tensor {
        let out = x.data.withUnsafeBufferPointer { xs in
            EngineLoops.uninitialized(xs.count) { ys in
                EngineLoops.parallelFor(xs.count, grain: 1 << 15) { r in for i in r { ys[i] = f.value(xs[i]) } }
            }
        }
        let tracked = tracks(x)
        let y = result(out, x.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    x.data.withUnsafeBufferPointer { xs in
                        y.data.withUnsafeBufferPointer { ys in
                            x.updateGrad { gx, fresh in
                                EngineLoops.parallelFor(g.count, grain: 1 << 15) { r in
                                    if fresh {
                                        for i in r { gx[i] = g[i] * f.derivative(xs[i], ys[i]) }
                                    } else {
                                        for i in r { gx[i] += g[i] * f.derivative(xs[i], ys[i]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    // MARK: - Public element-wise operations (every shape; result has x's shape)

    /// eˣ.
    public func exp(_ x: Tensor) -> Tensor { elementwise(x, ExpFunction()) }
    /// ln x.
    public func log(_ x: Tensor) -> Tensor { elementwise(x, LogFunction()) }
    /// √x.
    public func sqrt(_ x: Tensor) -> Tensor { elementwise(x, SqrtFunction()) }
    /// x².
    public func square(_ x: Tensor) -> Tensor { elementwise(x, SquareFunction()) }
    /// x · scale + shift, with constants.
    public func affine(_ x: Tensor, scale: Float = 1, shift: Float = 0) -> Tensor {
        elementwise(x, AffineFunction(scale: scale, shift: shift))
    }
    /// x · s.
    public func scale(_ x: Tensor, _ s: Float) -> Tensor { affine(x, scale: s) }
    /// max(x, 0).
    public func relu(_ x: Tensor) -> Tensor { leakyRelu(x, slope: 0) }
    /// x for x > 0, slope · x otherwise (PyTorch's default slope 0.01; the derivative at exactly 0
    /// is taken from the left, as PyTorch does). Vectorised in CKernels: graph attention applies it
    /// to every edge score and hidden value, every step.
    public func leakyRelu(_ x: Tensor, slope: Float = 0.01) -> Tensor {
        let c = EngineLoops.trainKernels
        return kernelElementwise(x, forward: { c.leaky_relu($0, $1, $2, slope) },
                                 backward: { xs, _, g, gx, n, fresh in c.leaky_relu_backward(xs, g, gx, n, slope, fresh) })
    }
    /// x for x > 0, alpha · (eˣ − 1) otherwise (vectorised in CKernels: it runs on every hidden
    /// value of graph attention, every step).
    public func elu(_ x: Tensor, alpha: Float = 1) -> Tensor {
        let c = EngineLoops.trainKernels
        return kernelElementwise(x, forward: { c.elu($0, $1, $2, alpha) },
                                 backward: { c.elu_backward($0, $1, $2, $3, $4, alpha, $5) })
    }

    /// An element-wise function computed by C kernels over chunks of the values (in parallel):
    /// `forward(x, y, n)` writes y; `backward(x, y, g, gx, n, fresh)` writes (fresh = 1) or adds
    /// the gradient to gx.
    private func kernelElementwise(
        _ x: Tensor, forward: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
        backward: @escaping (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int32) -> Void
    ) -> Tensor {
        let grain = 1 << 15
        let out = x.data.withUnsafeBufferPointer { xs in
            EngineLoops.uninitialized(xs.count) { ys in
                EngineLoops.parallelFor((xs.count + grain - 1) / grain, grain: 1) { chunks in
                    let lo = chunks.lowerBound * grain, hi = min(xs.count, chunks.upperBound * grain)
                    forward(xs.baseAddress! + lo, ys.baseAddress! + lo, hi - lo)
                }
            }
        }
        let tracked = tracks(x)
        let y = result(out, x.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, x.count > 0 else { return }
                y.grad.withUnsafeBufferPointer { g in
                    x.data.withUnsafeBufferPointer { xs in
                        y.data.withUnsafeBufferPointer { ys in
                            x.updateGrad { gx, fresh in
                                EngineLoops.parallelFor((g.count + grain - 1) / grain, grain: 1) { chunks in
                                    let lo = chunks.lowerBound * grain, hi = min(g.count, chunks.upperBound * grain)
                                    backward(xs.baseAddress! + lo, ys.baseAddress! + lo, g.baseAddress! + lo,
                                             gx.baseAddress! + lo, hi - lo, fresh ? 1 : 0)
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }
    /// x · Φ(x), the exact (erf) GELU.
    public func gelu(_ x: Tensor) -> Tensor {
        // GELUFunction's value and derivative, with Φ(x) computed once in the forward pass and kept
        // for the backward (one erf a value instead of two; the same expressions, so the same floats).
        let tracked = tracks(x)
        var cdf = [Float]()
        let out = x.data.withUnsafeBufferPointer { xs in
            EngineLoops.uninitialized(xs.count) { ys in
                if tracked {
                    cdf = EngineLoops.uninitialized(xs.count) { cs in
                        EngineLoops.parallelFor(xs.count, grain: 1 << 15) { r in
                            for i in r {
                                let e = Foundation.erf(xs[i] * 0.70710678118654752)
                                ys[i] = 0.5 * xs[i] * (1 + e)
                                cs[i] = 0.5 * (1 + e)
                            }
                        }
                    }
                } else {
                    EngineLoops.parallelFor(xs.count, grain: 1 << 15) { r in for i in r { ys[i] = GELUFunction().value(xs[i]) } }
                }
            }
        }
        let y = result(out, x.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    x.data.withUnsafeBufferPointer { xs in
                        cdf.withUnsafeBufferPointer { cs in
                            x.updateGrad { gx, fresh in
                                EngineLoops.parallelFor(g.count, grain: 1 << 15) { r in
                                    for i in r {
                                        let pdf = Foundation.exp(-0.5 * xs[i] * xs[i]) * 0.39894228040143268
                                        let d = cs[i] + xs[i] * pdf
                                        if fresh { gx[i] = g[i] * d } else { gx[i] += g[i] * d }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }
    /// 1 / (1 + e⁻ˣ).
    public func sigmoid(_ x: Tensor) -> Tensor { elementwise(x, SigmoidFunction()) }
    /// tanh x.
    public func tanh(_ x: Tensor) -> Tensor { elementwise(x, TanhFunction()) }
}
