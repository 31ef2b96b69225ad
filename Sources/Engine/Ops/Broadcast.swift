// Broadcast: element-wise add, subtract, multiply and divide of two tensors under NumPy's
// broadcasting rules (shapes aligned at the right; an extent of 1, or a missing axis, repeats).
//
// Fast paths: equal shapes, b equal to a's trailing axes (a bias [D] on [N,D], a per-head
// vector [H,D] on [N,H,D]), and one value of b per row of a ([N,1] on [N,D], e.g. a row mask).
// Everything else goes through a strided index map. Gradients sum over
// the broadcast axes in a fixed order (row by row), so they are the same on every run.

extension Tape {
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .add) }
    public func sub(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .sub) }
    public func mul(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .mul) }
    public func div(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .div) }

    enum BinaryKind { case add, sub, mul, div }

    /// The broadcast shape of two shapes, or nil when they do not broadcast.
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)]
            let y = i < r - b.count ? 1 : b[i - (r - b.count)]
            if x != y && x != 1 && y != 1 { return nil }
            out[i] = x == 1 ? y : x
        }
        return out
    }

    /// Row-major strides of `shape` aligned to `outShape`, 0 on broadcast axes.
    static func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
        let r = outShape.count, off = r - shape.count
        var strides = [Int](repeating: 0, count: r)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i + off] = shape[i] == 1 ? 0 : s
            s *= shape[i]
        }
        return strides
    }

    func binary(_ a: Tensor, _ b: Tensor, _ kind: BinaryKind) -> Tensor {
        guard let shape = Tape.broadcastShape(a.shape, b.shape) else {
            preconditionFailure("\(kind): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let n = shape.reduce(1, *)
        if shape.count >= 2 && a.shape == shape && b.shape.count == shape.count && b.shape[0] == shape[0]
            && b.count == shape[0] && shape[0] > 0 && a.count > b.count {
            return rowScalar(a, b, kind)
        }
        // Index maps: nil means "the identity" (same shape); a suffix operand is indexed i % count.
        let aMap: [Int]? = a.shape == shape ? nil : EngineLoops.stridedIndices(shape: shape, strides: Tape.broadcastStrides(a.shape, to: shape))
        let bSuffix = a.shape == shape && b.count > 0 && shape.count >= b.shape.count
            && Array(shape.suffix(b.shape.count)) == b.shape
        let bMap: [Int]? = b.shape == shape || bSuffix ? nil
            : EngineLoops.stridedIndices(shape: shape, strides: Tape.broadcastStrides(b.shape, to: shape))
        let bPeriod = b.count
        let period = bSuffix ? bPeriod : n, blocks = period == 0 ? 0 : n / period
        var out = EngineLoops.uninitialized(n) { _ in }   // every value is written below
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { o in
                    @inline(__always) func op(_ x: Float, _ y: Float) -> Float {
                        switch kind { case .add: return x + y; case .sub: return x - y; case .mul: return x * y; case .div: return x / y }
                    }
                    if aMap == nil && bMap == nil {
                        // Same shape (one block of n) or b repeating over blocks of b.count; one
                        // loop per kind, so each is a plain vectorisable loop.
                        guard n > 0, let a = ap.baseAddress, let b = bp.baseAddress, let y = o.baseAddress else { return }
                        EngineLoops.parallelFor(blocks, grain: max(1, (1 << 15) / max(period, 1))) { rs in
                            for r in rs {
                                let x = a + r * period, out = y + r * period
                                switch kind {
                                case .add: for j in 0..<period { out[j] = x[j] + b[j] }
                                case .sub: for j in 0..<period { out[j] = x[j] - b[j] }
                                case .mul: for j in 0..<period { out[j] = x[j] * b[j] }
                                case .div: for j in 0..<period { out[j] = x[j] / b[j] }
                                }
                            }
                        }
                    } else {
                        for i in 0..<n {
                            let x = aMap.map { ap[$0[i]] } ?? ap[i]
                            let y = bMap.map { bp[$0[i]] } ?? bp[i % bPeriod]
                            o[i] = op(x, y)
                        }
                    }
                }
            }
        }
        let tracked = tracks(a, b)
        let y = result(out, shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    a.data.withUnsafeBufferPointer { ap in
                        b.data.withUnsafeBufferPointer { bp in
                            if aMap == nil && bMap == nil {
                                // Fast path: a's index is i, b's is i mod period, walked block by block.
                                if a.requiresGrad && (kind == .add || kind == .sub) {
                                    a.accumulateGrad(y.grad)   // a has the result's shape: da = g
                                } else if a.requiresGrad {
                                    a.updateGrad { ga, fresh in
                                        EngineLoops.parallelFor(blocks, grain: max(1, (1 << 15) / max(period, 1))) { rs in
                                        for r in rs {
                                            let base = r * period
                                            switch (kind, fresh) {
                                            case (.mul, true): for j in 0..<period { ga[base + j] = g[base + j] * bp[j] }
                                            case (.mul, false): for j in 0..<period { ga[base + j] += g[base + j] * bp[j] }
                                            case (_, true): for j in 0..<period { ga[base + j] = g[base + j] / bp[j] }
                                            case (_, false): for j in 0..<period { ga[base + j] += g[base + j] / bp[j] }
                                            }
                                        }
                                        }
                                    }
                                }
                                if b.requiresGrad && period == n && (kind == .add || kind == .sub) && b.grad.isEmpty {
                                    // b has the result's shape and no gradient yet: one pass writing
                                    // 0 ± g — the floats of adding into zeros, without zeroing first.
                                    b.updateGrad { gb, _ in
                                        EngineLoops.parallelFor(n, grain: 1 << 15) { rs in
                                            if kind == .add { for i in rs { gb[i] = 0 + g[i] } } else { for i in rs { gb[i] = 0 - g[i] } }
                                        }
                                    }
                                } else if b.requiresGrad {
                                    b.accumulateGrad { gb in
                                        for r in 0..<blocks {
                                            let base = r * period
                                            switch kind {
                                            case .add: for j in 0..<period { gb[j] += g[base + j] }
                                            case .sub: for j in 0..<period { gb[j] -= g[base + j] }
                                            case .mul: for j in 0..<period { gb[j] += g[base + j] * ap[base + j] }
                                            case .div: for j in 0..<period { let q = bp[j]; gb[j] -= g[base + j] * ap[base + j] / (q * q) }
                                            }
                                        }
                                    }
                                }
                                return
                            }
                            @inline(__always) func ai(_ i: Int) -> Int { aMap?[i] ?? i }
                            @inline(__always) func bi(_ i: Int) -> Int { bMap?[i] ?? i % bPeriod }
                            if a.requiresGrad {
                                a.accumulateGrad { ga in
                                    switch kind {
                                    case .add, .sub:
                                        for i in 0..<n { ga[ai(i)] += g[i] }
                                    case .mul:
                                        for i in 0..<n { ga[ai(i)] += g[i] * bp[bi(i)] }
                                    case .div:
                                        for i in 0..<n { ga[ai(i)] += g[i] / bp[bi(i)] }
                                    }
                                }
                            }
                            if b.requiresGrad {
                                b.accumulateGrad { gb in
                                    switch kind {
                                    case .add:
                                        for i in 0..<n { gb[bi(i)] += g[i] }
                                    case .sub:
                                        for i in 0..<n { gb[bi(i)] -= g[i] }
                                    case .mul:
                                        for i in 0..<n { gb[bi(i)] += g[i] * ap[ai(i)] }
                                    case .div:
                                        for i in 0..<n { let q = bp[bi(i)]; gb[bi(i)] -= g[i] * ap[ai(i)] / (q * q) }
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

    /// `binary` when b holds one value per row of a (b [N,1,…] on a [N,…]): the same floats in
    /// the same order as the index-map path (b's gradient sums each row left to right), without
    /// building the maps.
    private func rowScalar(_ a: Tensor, _ b: Tensor, _ kind: BinaryKind) -> Tensor {
        let rows = a.shape[0], cols = a.count / rows, n = a.count
        var out = EngineLoops.uninitialized(n) { _ in }
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { o in
                    for r in 0..<rows {
                        let y = bp[r], base = r * cols
                        switch kind {
                        case .add: for j in base..<base + cols { o[j] = ap[j] + y }
                        case .sub: for j in base..<base + cols { o[j] = ap[j] - y }
                        case .mul: for j in base..<base + cols { o[j] = ap[j] * y }
                        case .div: for j in base..<base + cols { o[j] = ap[j] / y }
                        }
                    }
                }
            }
        }
        let tracked = tracks(a, b)
        let y = result(out, a.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    a.data.withUnsafeBufferPointer { ap in
                        b.data.withUnsafeBufferPointer { bp in
                            if a.requiresGrad {
                                a.accumulateGrad { ga in
                                    for r in 0..<rows {
                                        let q = bp[r], base = r * cols
                                        switch kind {
                                        case .add, .sub: for j in base..<base + cols { ga[j] += g[j] }
                                        case .mul: for j in base..<base + cols { ga[j] += g[j] * q }
                                        case .div: for j in base..<base + cols { ga[j] += g[j] / q }
                                        }
                                    }
                                }
                            }
                            if b.requiresGrad {
                                b.accumulateGrad { gb in
                                    for r in 0..<rows {
                                        let q = bp[r], base = r * cols
                                        var s = gb[r]
                                        switch kind {
                                        case .add: for j in base..<base + cols { s += g[j] }
                                        case .sub: for j in base..<base + cols { s -= g[j] }
                                        case .mul: for j in base..<base + cols { s += g[j] * ap[j] }
                                        case .div: for j in base..<base + cols { s -= g[j] * ap[j] / (q * q) }
                                        }
                                        gb[r] = s
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
}
