using Loom.IR;

namespace Loom.Workload;

/// <summary>
/// The backward pass of one forward operator, as work. A weight product Y = X·W costs two products of the
/// same size backward: dX = dY·Wᵀ (skipped when X is a model input, which needs no gradient) and
/// dW = Xᵀ·dY. Other operators cost about what they cost forward (normalizations twice: statistics and
/// their gradient), reading the output gradient and the saved inputs and writing the input gradients.
/// </summary>
public static class BackwardRules
{
    /// <summary>FLOPs of the input-gradient node.</summary>
    public static long InputGradFlops(OpProfile op)
    {
        if (op.IsWeightProduct) return op.Flops - BiasFlops(op);
        return op.Op is "BatchNormalization" or "LayerNormalization" or "InstanceNormalization" or "GroupNormalization" or "Softmax" or "LogSoftmax"
            ? 2 * op.Flops : op.Flops;
    }

    /// <summary>FLOPs of the weight-gradient node of a weight product (bias gradient included: a sum over the output gradient).</summary>
    public static long WeightGradFlops(OpProfile op) => op.Flops - BiasFlops(op) + (op.Params.Count > 1 ? OutputElements(op) : 0);

    /// <summary>Bytes the input-gradient node moves: the output gradient and saved inputs in, the input gradients out.</summary>
    public static long InputGradBytes(OpProfile op) => op.OutputBytes + op.BytesRead + op.ActivationInputBytes;

    /// <summary>Bytes the weight-gradient node moves: the output gradient and saved input in, the weight gradient out.</summary>
    public static long WeightGradBytes(OpProfile op) => op.OutputBytes + op.ActivationInputBytes + op.ParamBytes;

    /// <summary>Per-parameter-element FLOPs and state tensors of an optimizer update.</summary>
    public static (int Flops, int States) Optimizer(OptimizerKind kind) => kind switch
    {
        OptimizerKind.Sgd => (2, 0),          // p -= lr·g
        OptimizerKind.Momentum => (4, 1),     // v = μv + g; p -= lr·v
        _ => (12, 2),                         // Adam: two moments, bias corrections, sqrt, divide
    };

    private static long BiasFlops(OpProfile op) => op.Params.Count > 1 && (ConvOps.IsForward(op.Op) || op.Op == "Gemm") ? OutputElements(op) : 0;

    private static long OutputElements(OpProfile op) => op.OutputDims.Count > 0 ? op.OutputDims[0].Aggregate(1L, (a, d) => a * d) : 0;
}
