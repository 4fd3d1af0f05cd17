using Loom.Inference;
using Loom.IR;

namespace Loom.Workload;

/// <summary>A trainable tensor a node reads: its value name, bytes and dims.</summary>
public sealed record ParamRef(string Name, long Bytes, long[] Dims);

/// <summary>
/// One node of the model at concrete dims: FLOPs (a multiply-add is two), bytes of activations read and
/// written, the parameters it reads, and its tensors' shapes. Activation figures already carry the batch.
/// </summary>
public sealed record OpProfile(
    int Index, string Name, string Op, long Flops,
    long ActivationInputBytes, long ConstantInputBytes, long OutputBytes,
    IReadOnlyList<string> ActivationInputs, IReadOnlyList<string> Outputs, IReadOnlyList<ParamRef> Params,
    IReadOnlyList<long[]> InputDims, IReadOnlyList<long[]> OutputDims, string Types, Node Node)
{
    public long ParamBytes => Params.Sum(p => p.Bytes);
    public long BytesRead => ActivationInputBytes + ConstantInputBytes;

    /// <summary>Conv/ConvTranspose/MatMul/Gemm reading a parameter: backward splits into input- and weight-gradient products.</summary>
    public bool IsWeightProduct => (ConvOps.IsConvolution(Op) || Op is "MatMul" or "Gemm") && Params.Count > 0;
}

/// <summary>
/// The work of a model's main graph at concrete dims, the input to every workload graph. Nodes computing
/// only from constants (weights built by ConstantOfShape in the light test models, shape arithmetic)
/// are not work of a step: they are folded away and their float results that feed work are parameters.
/// </summary>
public sealed class ModelProfile
{
    public required IReadOnlyList<OpProfile> Ops { get; init; }
    public required IReadOnlyList<string> GraphInputs { get; init; }
    public required IReadOnlyList<string> GraphOutputs { get; init; }
    /// <summary>The batch the activation figures are for.</summary>
    public required long Batch { get; init; }
    /// <summary>The inferred graph the operators come from, and the dim bindings they were profiled at.</summary>
    public required Graph Graph { get; init; }
    public required Func<string, long?> Dims { get; init; }
    public long ParameterBytes => Ops.Sum(o => o.ParamBytes);
    public long ParameterCount => Ops.Sum(o => o.Params.Sum(p => p.Dims.Aggregate(1L, (a, d) => a * d)));

    /// <summary>
    /// Profiles <paramref name="model"/> with <paramref name="dims"/> bound and the inputs' leading dim set to
    /// <paramref name="batch"/>. A symbolic leading dim is bound to it; a literal one (batch 1 baked into the
    /// export) scales every activation figure linearly instead, which is exact for models whose nodes treat
    /// batch rows independently (CNNs, MLPs, per-row attention).
    /// </summary>
    /// <param name="keepConstantNodes">Profile nodes that compute from constants too: a runtime that does not fold them runs them every time (validation).</param>
    public static ModelProfile Analyze(Model model, IReadOnlyDictionary<string, long> dims, long? batch = null, bool inferred = false, bool keepConstantNodes = false)
    {
        if (!inferred) model = ShapeInference.Run(model);
        var g = model.Graph;
        var bind = new Dictionary<string, long>(dims);
        double scale = 1;
        long nativeBatch = 1;
        var first = g.RequiredInputs.Select(i => (i.Type as TensorType)?.Shape).FirstOrDefault(s => s is { Rank: > 0 });
        if (first is not null)
        {
            var lead = first[0];
            if (lead.SymbolName is { } sym)
            {
                if (batch is { } b && !bind.ContainsKey(sym)) bind[sym] = b;
                nativeBatch = bind.TryGetValue(sym, out var v) ? v : 1;
            }
            else if (lead.Value is { } n && n > 0)
            {
                nativeBatch = n;
                if (batch is { } b) scale = (double)b / n;
            }
        }
        long? Lookup(string s) => bind.TryGetValue(s, out var v) ? v : 1; // unbound symbols count as 1, as `loom inspect` does

        var constant = new HashSet<string>(g.Initializers.Keys);
        var producer = new Dictionary<string, Node>();
        foreach (var n in g.Nodes)
        {
            foreach (var o in n.Outputs) if (o.Length > 0) producer[o] = n;
            if (IsConstantNode(n, constant)) foreach (var o in n.Outputs) if (o.Length > 0) constant.Add(o);
        }

        long[]? DimsOf(string name)
        {
            if (name.Length == 0 || g.TypeOf(name) is not TensorType { Shape: { } s }) return null;
            var r = new long[s.Rank];
            for (int i = 0; i < r.Length; i++) r[i] = s[i].Evaluate(Lookup) ?? 1;
            return r;
        }
        long BytesOf(string name)
        {
            if (DimsOf(name) is not { } d || g.TypeOf(name) is not TensorType t) return 0;
            return d.Aggregate((long)Math.Max(1, t.ElementType.ElementSize()), (a, x) => a * x);
        }
        long Scaled(long v) => scale == 1 ? v : (long)Math.Round(v * scale);
        long[] ScaledDims(long[] d) => scale == 1 || d.Length == 0 ? d : [Scaled(d[0]), .. d[1..]];

        var seenParams = new HashSet<string>();
        var ops = new List<OpProfile>();
        foreach (var n in g.Nodes)
        {
            if (!keepConstantNodes && n.Outputs.All(constant.Contains)) continue;
            var acts = new List<string>();
            var pars = new List<ParamRef>();
            long actBytes = 0, constBytes = 0, outBytes = 0;
            var inDims = new List<long[]>();
            var types = new List<string>();
            for (int i = 0; i < n.Inputs.Length; i++)
            {
                var name = n.Inputs[i];
                if (name.Length == 0) continue;
                var d = DimsOf(name) ?? [];
                types.Add((g.TypeOf(name) as TensorType)?.ElementType.Name() ?? "?");
                if (constant.Contains(name))
                {
                    inDims.Add(d);
                    long b = BytesOf(name);
                    constBytes += b;
                    if (IsTrainable(n, i, g.TypeOf(name)) && seenParams.Add(name)) pars.Add(new ParamRef(name, b, d));
                }
                else
                {
                    inDims.Add(ScaledDims(d));
                    acts.Add(name);
                    actBytes += Scaled(BytesOf(name));
                }
            }
            var outDims = new List<long[]>();
            foreach (var o in n.Outputs)
            {
                if (o.Length == 0) continue;
                outDims.Add(ScaledDims(DimsOf(o) ?? []));
                outBytes += Scaled(BytesOf(o));
            }
            long flops = FlopCounter.Count(n, g, Lookup) ?? 0;
            foreach (var sub in n.Subgraphs) flops += FlopCounter.Total(sub, Lookup, out _) ?? 0;
            // Named as Loom's run traces name nodes (name, else first output) so simulated and measured nodes pair up.
            ops.Add(new OpProfile(ops.Count, n.Name.Length > 0 ? n.Name : n.Outputs.FirstOrDefault() ?? $"{n.OpType}_{ops.Count}", n.OpType, Scaled(flops),
                actBytes, constBytes, outBytes, acts, n.Outputs.Where(o => o.Length > 0).ToArray(), pars, inDims, outDims,
                string.Join(",", types), n));
        }
        return new ModelProfile
        {
            Ops = ops,
            GraphInputs = g.RequiredInputs.Select(i => i.Name).ToArray(),
            GraphOutputs = g.Outputs.Select(o => o.Name).ToArray(),
            Batch = scale == 1 ? nativeBatch : batch ?? nativeBatch,
            Graph = g,
            Dims = Lookup,
        };
    }

    /// <summary>A node whose outputs are the same every step: all inputs constant, no subgraph, not random.</summary>
    private static bool IsConstantNode(Node n, HashSet<string> constant) =>
        n.Subgraphs.FirstOrDefault() is null && !n.OpType.StartsWith("Random", StringComparison.Ordinal) && n.OpType != "Multinomial"
        && n.Inputs.All(i => i.Length == 0 || constant.Contains(i));

    /// <summary>
    /// Float constants a training step updates. BatchNormalization's running mean and variance (inputs 3, 4)
    /// are statistics, not trained; integer constants are shapes and indices.
    /// </summary>
    private static bool IsTrainable(Node n, int input, IrType? type)
    {
        if (type is not TensorType { ElementType: DataType.Float or DataType.Float16 or DataType.BFloat16 or DataType.Double }) return false;
        if (n.OpType == "BatchNormalization" && input >= 3) return false;
        if (n.OpType is "Reshape" or "Expand" or "Tile" or "Slice" or "Pad" or "Resize" or "Upsample" && input > 0) return false;
        return true;
    }
}
