using Loom.Inference;
using Loom.IR;
using Loom.Kernels.Common;

namespace Loom.Passes;

/// <summary>
/// Graph pass (pure function <c>Model → Model</c>, self-contained; the pass pipeline decides where it
/// runs — after constant folding and BatchNorm/Mul/Add folding into Conv, so weights are constants and
/// the chains below are adjacent). It rewrites float32
/// <code>
///   Conv → [Add(·, Z) | Sum(·, Z)] → [Relu | LeakyRelu | Clip | HardSigmoid | HardSwish | Sigmoid | Tanh
///                                     | x·Clip(x+3, 0, 6)/6 (HardSwish spelled out, as Paddle exports it)]
/// </code>
/// into one <c>com.loom.FusedConv(X, W, B, Z)</c> node computing <c>activation(Conv(X, W) + B + Z)</c>, so
/// the Conv kernel applies the residual and the activation to each output tile while it is in cache
/// instead of two or four more passes over memory. Only when every intermediate value has the one
/// consumer in the chain (and is not a graph output), Z has exactly the Conv output's inferred shape,
/// and the activation's parameters are constants. The fused node takes the place of the last node of
/// its chain (Z may be computed after the Conv) and writes that node's output, so nothing downstream
/// changes. Types must have been inferred (the pass runs <see cref="ShapeInference"/> if not).
///
/// It also takes in a pre-activation chain feeding the Conv alone — [BatchNormalization] → [Mul(·, c)] →
/// [Add(·, c)] → [Relu] with per-channel constants, as DenseNet's BN-ReLU-Conv layers have — as the
/// FusedConv inputs S, T (4 and 5) and attribute <c>input_activation</c>: the kernel computes
/// Conv(relu(X·S + T)) with zero padding after the transform, i.e. exactly the graph it replaces
/// (up to rounding of the composed affine map), without writing the four intermediate tensors.
/// </summary>
public static partial class FuseConvActivation
{
    public const string Domain = ConvOps.LoomDomain;

    public static Model Run(Model model) => LoomOperatorRewrite.Run(model, m => Fuse(m.Graph, m.Opsets[""] ?? 0));

    private static Graph Fuse(Graph g, int opset)
    {
        g = g.WithNodes(g.Nodes.Select(n => n.WithSubgraphs(s => Fuse(s, opset))));
        var consumers = new Dictionary<string, List<int>>();
        for (int i = 0; i < g.Nodes.Length; i++)
            foreach (var name in TopologicalSort.UsedNames(g.Nodes[i]).Distinct())
            {
                if (!consumers.TryGetValue(name, out var list)) consumers[name] = list = new List<int>();
                list.Add(i);
            }
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        var chain = new Chain(g, consumers, outputs, opset);
        Node?[] nodes = [.. g.Nodes];
        var producer = new Dictionary<string, int>();
        for (int i = 0; i < nodes.Length; i++) foreach (var o in nodes[i]!.Outputs) if (o.Length > 0) producer[o] = i;
        var inits = new Dictionary<string, Tensor>(g.Initializers);
        bool changed = false;
        for (int i = 0; i < nodes.Length; i++)
        {
            if (FuseTranspose(i, nodes, chain, producer)) { changed = true; continue; }
            if (nodes[i] is not { OpType: "Conv", Domain: "" } conv || !chain.IsFloat(conv.Outputs[0])) continue;
            var fused = new List<int>();
            string value = conv.Outputs[0];
            string? z = null;
            if (chain.Residual(value, nodes) is { } residual)
            {
                fused.Add(residual.Node);
                z = residual.Z;
                value = nodes[residual.Node]!.Outputs[0];
            }
            var activation = FusedActivation.None;
            if (chain.Activation(value, nodes) is { } act)
            {
                fused.AddRange(act.Nodes);
                activation = act.Activation;
                value = nodes[act.Nodes[^1]]!.Outputs[0];
            }
            var pre = InputAffine(conv, i, chain, nodes, producer);
            if (fused.Count == 0 && pre is null) continue;
            var inputs = new List<string> { pre?.Source ?? conv.Inputs[0], conv.Inputs[1], conv.Inputs.Length > 2 ? conv.Inputs[2] : "", z ?? "" };
            var attributes = conv.Attributes.Concat(activation.ToAttributes());
            if (pre is { } affine)
            {
                inputs.Add(AddConstant(inits, $"{value}__input_scale", affine.Scale));
                inputs.Add(AddConstant(inits, $"{value}__input_shift", affine.Shift));
                if (affine.Relu) attributes = attributes.Append(IR.Attribute.String("input_activation", "Relu"));
                foreach (var k in affine.Nodes) nodes[k] = null;
            }
            while (inputs[^1].Length == 0) inputs.RemoveAt(inputs.Count - 1);
            int at = fused.Count > 0 ? fused[^1] : i;
            nodes[at] = new Node(ConvOps.FusedConv, inputs, [value], attributes, conv.Name, Domain);
            if (at != i) nodes[i] = null;
            foreach (var k in fused.SkipLast(1)) nodes[k] = null;
            producer[value] = at;
            changed = true;
        }
        return changed ? new Graph(g.Name, g.Inputs, g.Outputs, nodes.OfType<Node>(), inits, g.ValueTypes) : g;
    }

    /// <summary>
    /// ConvTranspose (float32, with a bias) → activation becomes <c>com.loom.FusedConvTranspose</c>, whose kernel applies the
    /// activation in its bias pass: act(ConvTranspose(X, W) + B) computed in the order the two nodes compute it. Only with a
    /// bias, so the epilogue adds what the unfused node adds, and only the piecewise-linear activations, which give the separate
    /// node's bits (the epilogue's Sigmoid and Tanh are TensorPrimitives', 1 ulp from Loom's Sigmoid kernel).
    /// </summary>
    private static bool FuseTranspose(int i, Node?[] nodes, Chain chain, Dictionary<string, int> producer)
    {
        if (nodes[i] is not { OpType: "ConvTranspose", Domain: "" } ct || !ct.HasInput(2) || !chain.IsFloat(ct.Outputs[0])
            || chain.Activation(ct.Outputs[0], nodes) is not { } act || act.Activation.Kind is ActivationKind.Sigmoid or ActivationKind.Tanh) return false;
        string value = nodes[act.Nodes[^1]]!.Outputs[0];
        int at = act.Nodes[^1];
        nodes[at] = new Node(ConvOps.FusedConvTranspose, ct.Inputs, [value], ct.Attributes.Concat(act.Activation.ToAttributes()), ct.Name, Domain);
        nodes[i] = null;
        foreach (var k in act.Nodes.SkipLast(1)) nodes[k] = null;
        producer[value] = at;
        return true;
    }

    /// <summary>Recognizes the nodes that may follow a Conv.</summary>
    private sealed class Chain(Graph g, Dictionary<string, List<int>> consumers, HashSet<string> outputs, int opset)
    {
        public Graph Graph => g;

        public bool IsFloat(string value) => g.TypeOf(value) is TensorType { ElementType: DataType.Float };

        /// <summary>The one live node reading <paramref name="value"/>, if the value has no other reader and is not a graph output.</summary>
        public int? Single(string value, Node?[] nodes) =>
            !outputs.Contains(value) && consumers.TryGetValue(value, out var c) && c.Count == 1 && nodes[c[0]] is not null ? c[0] : null;

        /// <summary>Add(value, Z) or Sum(value, Z) with Z of the same inferred shape: the node and Z.</summary>
        public (int Node, string Z)? Residual(string value, Node?[] nodes)
        {
            if (Single(value, nodes) is not { } j || nodes[j] is not { Domain: "", OpType: "Add" or "Sum", Inputs.Length: 2 } n) return null;
            string other = n.Inputs[0] == value ? n.Inputs[1] : n.Inputs[0];
            if (other == value || other.Length == 0 || !IsFloat(other)) return null;
            var (a, b) = (g.TypeOf(value) as TensorType, g.TypeOf(other) as TensorType);
            return a?.Shape is { } sa && b?.Shape is { } sb && sa.Equals(sb) ? (j, other) : null;
        }

        /// <summary>The activation node(s) reading <paramref name="value"/>, in order, and the activation they compute.</summary>
        public (int[] Nodes, FusedActivation Activation)? Activation(string value, Node?[] nodes)
        {
            if (SpelledHardSwish(value, nodes) is { } hs) return (hs, new FusedActivation(ActivationKind.HardSwish));
            if (Single(value, nodes) is not { } j || nodes[j] is not { Domain: "" } n || n.Inputs[0] != value) return null;
            FusedActivation? act = n.OpType switch
            {
                "Relu" => new(ActivationKind.Relu),
                "Sigmoid" => new(ActivationKind.Sigmoid),
                "Tanh" => new(ActivationKind.Tanh),
                "HardSwish" => new(ActivationKind.HardSwish),
                "LeakyRelu" => new(ActivationKind.LeakyRelu, n.GetFloat("alpha", 0.01f)),
                "HardSigmoid" => new(ActivationKind.HardSigmoid, n.GetFloat("alpha", 0.2f), n.GetFloat("beta", 0.5f)),
                "Clip" => ClipRange(n) is var (lo, hi) ? new(ActivationKind.Clip, lo, hi) : null,
                _ => null,
            };
            return act is { } a ? ([j], a) : null;
        }

        /// <summary>Clip's bounds: attributes before opset 11, constant inputs (absent = unbounded) from 11.</summary>
        private (float Lo, float Hi)? ClipRange(Node clip)
        {
            if (opset < 11) return (clip.GetFloat("min", float.MinValue), clip.GetFloat("max", float.MaxValue));
            float? lo = clip.HasInput(1) ? Scalar(clip.Inputs[1]) : float.MinValue;
            float? hi = clip.HasInput(2) ? Scalar(clip.Inputs[2]) : float.MaxValue;
            return lo is { } l && hi is { } h ? (l, h) : null;
        }

        /// <summary>x → Add(x, 3) → Clip(0, 6) → Mul(x, ·) → Div(·, 6) or Mul(·, 1/6): the four nodes after x.</summary>
        private int[]? SpelledHardSwish(string x, Node?[] nodes)
        {
            if (outputs.Contains(x) || !consumers.TryGetValue(x, out var c) || c.Count != 2) return null;
            foreach (var (ai, mi) in new[] { (c[0], c[1]), (c[1], c[0]) })
            {
                if (nodes[ai] is not { Domain: "", OpType: "Add" } add || Other(add, x) is not { } three || Scalar(three) != 3f) continue;
                if (Single(add.Outputs[0], nodes) is not { } ci || nodes[ci] is not { Domain: "", OpType: "Clip" } clip || clip.Inputs[0] != add.Outputs[0]) continue;
                if (ClipRange(clip) != (0f, 6f)) continue;
                if (Single(clip.Outputs[0], nodes) != mi || nodes[mi] is not { Domain: "", OpType: "Mul" } mul || Other(mul, x) != clip.Outputs[0]) continue;
                if (Single(mul.Outputs[0], nodes) is not { } di || nodes[di] is not { Domain: "" } scale || scale.Inputs[0] != mul.Outputs[0]) continue;
                bool sixth = scale.OpType switch
                {
                    "Div" => Scalar(scale.Inputs[1]) == 6f,
                    "Mul" => Scalar(scale.Inputs[1]) is { } s && Math.Abs(s * 6 - 1) < 1e-6f,
                    _ => false,
                };
                if (sixth) return [ai, ci, mi, di];
            }
            return null;
        }

        /// <summary>The other input of a two-input node that reads <paramref name="value"/> once.</summary>
        private static string? Other(Node n, string value) =>
            n.Inputs.Length != 2 ? null : n.Inputs[0] == value && n.Inputs[1] != value ? n.Inputs[1] : n.Inputs[1] == value && n.Inputs[0] != value ? n.Inputs[0] : null;

        /// <summary>
        /// The per-channel values of a float32 constant that broadcasts against an NCHW value of rank
        /// <paramref name="rank"/> along the channel axis only (a scalar, [C,1,1], [1,C,1,1], …).
        /// </summary>
        public double[]? PerChannel(string name, int channels, int rank)
        {
            if (!g.Initializers.TryGetValue(name, out var t) || t.DataType != DataType.Float || t.Rank > rank) return null;
            var v = t.AsSpan<float>();
            if (t.Length == 1) return Enumerable.Repeat((double)v[0], channels).ToArray();
            for (int a = 0; a < t.Rank; a++)
            {
                int axis = rank - t.Rank + a;
                if (t.Shape[a] != 1 && (axis != 1 || t.Shape[a] != channels)) return null;
            }
            return t.Length == channels ? v.ToArray().Select(x => (double)x).ToArray() : null;
        }

        /// <summary>An inference-mode BatchNormalization with constant parameters as per-channel scale and shift.</summary>
        private readonly Dictionary<Node, (double[] Scale, double[] Shift)?> _batchNorms = new(ReferenceEqualityComparer.Instance);

        /// <summary>The BatchNormalization's per-channel map, computed once per node (the walk asks twice).</summary>
        public (double[] Scale, double[] Shift)? BatchNorm(Node bn, int channels)
        {
            if (!_batchNorms.TryGetValue(bn, out var map)) _batchNorms[bn] = map = ComputeBatchNorm(bn, channels);
            return map;
        }

        private (double[] Scale, double[] Shift)? ComputeBatchNorm(Node bn, int channels)
        {
            if (bn.Inputs.Length != 5 || bn.Outputs.Skip(1).Any(o => o.Length > 0)) return null;
            if (opset >= 14 ? bn.GetInt("training_mode", 0) != 0 : opset < 9 && bn.GetInt("spatial", 1) == 0) return null;
            var p = bn.Inputs.Skip(1).Select(n => g.Initializers.GetValueOrDefault(n)).ToArray();
            if (p.Any(t => t is not { DataType: DataType.Float } || t.Length != channels)) return null;
            float[] gamma = p[0]!.ToArray<float>(), beta = p[1]!.ToArray<float>(), mean = p[2]!.ToArray<float>(), variance = p[3]!.ToArray<float>();
            double eps = bn.GetFloat("epsilon", 1e-5f);
            var scale = new double[channels];
            var shift = new double[channels];
            for (int k = 0; k < channels; k++)
            {
                scale[k] = gamma[k] / Math.Sqrt(variance[k] + eps);
                shift[k] = beta[k] - mean[k] * scale[k];
            }
            return (scale, shift);
        }

        /// <summary>The value of a one-element float32 initializer.</summary>
        private float? Scalar(string name) =>
            g.Initializers.TryGetValue(name, out var t) && t.DataType == DataType.Float && t.Length == 1 ? t.AsSpan<float>()[0] : null;
    }
}
