using System.Globalization;
using System.Text;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Passes;

namespace Loom.Streams.Models.Emit;

/// <summary>
/// Writes an ONNX model's stream graph as a StreamIt program (<c>loom stream MODEL.onnx --emit-str FILE.str</c>) that
/// Loom's own StreamIt frontend compiles and runs back to the model's outputs. An item is one input tensor (batch 1,
/// NCHW order) as floats. The graph after Loom's passes (weights folded, BatchNorm folded into Conv) is walked in
/// order keeping the <em>live set</em>: the tensors made so far that later nodes still read, concatenated, which is
/// what flows between filters. Each operator, with the element-wise operators that only consume its output fused
/// in, is a filter that pops the live set and pushes its result: alone when nothing else stays live, else in a
/// <c>duplicate</c> split-join beside an <c>Identity</c> (or a filter keeping the tensors still needed), joined
/// <c>roundrobin(kept, made)</c> — so branches become duplicate split-joins joined by concatenation, and a
/// residual Add or a Concat is a filter combining the tensors of the live set. Reshapes are free (same items).
/// </summary>
public static class StrEmitter
{
    public static StrEmitResult Emit(string onnxPath, StrEmitOptions? options = null) =>
        Emit(OnnxImporter.Load(onnxPath), Path.GetFileNameWithoutExtension(onnxPath), options);

    public static StrEmitResult Emit(Model model, string name, StrEmitOptions? options = null)
    {
        options ??= new StrEmitOptions();
        model = Prepare(model, options.Dims ?? new Dictionary<string, long>());
        if (options.RandomWeightSeed is { } seed) model = RandomizeWeights(model, seed);
        return new Writer(model, Ident(name), options).Write();
    }

    /// <summary>The model with its inputs' sizes fixed and Loom's passes run (standard operators only, every constant folded).</summary>
    public static Model Prepare(Model model, IReadOnlyDictionary<string, long> dims)
    {
        var g = model.Graph;
        var inputs = g.RequiredInputs.ToList();
        if (inputs.Count != 1) throw new InputException($"--emit-str: the model has {inputs.Count} inputs; a stream item is one input tensor, so exactly one is supported");
        var fixedInputs = g.Inputs.Select(i =>
        {
            if (i.Type is not TensorType { Shape: { } s } t || t.ElementType != DataType.Float)
                return g.Initializers.ContainsKey(i.Name) ? i : throw new InputException($"--emit-str: input '{i.Name}' is not a float32 tensor of known rank");
            var shape = s.Substitute(sym => dims.TryGetValue(sym, out var v) ? Dim.Of(v)
                : throw new InputException($"--emit-str: give the size of dimension '{sym}' of input '{i.Name}' (--dim {sym}=N)"));
            return new ValueInfo(i.Name, t.WithShape(shape));
        });
        model = model.WithGraph(g.WithInputs(fixedInputs));
        var opts = new PassOptions { MaxFoldedTensorBytes = 1L << 30 };
        return PassPipeline.ForLevel(2, opts).Run(model);
    }

    /// <summary>Replaces the weights (constant operands 1 and 2 of Conv, Gemm, MatMul) by <see cref="StrRandom"/> values.</summary>
    public static Model RandomizeWeights(Model model, int seed)
    {
        var g = model.Graph;
        var inits = g.Initializers.ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (name, k) in WeightNames(g).Select((n, k) => (n, k)))
        {
            var t = g.Initializers[name];
            var shape = t.Shape.ToArray();
            inits[name] = Tensor.FromArray(StrRandom.Values(WeightSeed(seed, k), (int)ShapeMath.Size(shape), StrRandom.Scale(shape)), shape);
        }
        return model.WithGraph(g.WithInitializers(inits));
    }

    internal static int WeightSeed(int seed, int k) => unchecked(seed * 7919 + k * 104729 + 1);

    /// <summary>The randomized weights in a fixed order (first use).</summary>
    internal static List<string> WeightNames(IR.Graph g)
    {
        var names = new List<string>();
        foreach (var n in g.Nodes)
            // The weighted operators StrOps emits: plain Conv only (Prepare keeps Loom's fused forms out; no ConvTranspose), not ConvOps.
            if (n.OpType is "Conv" or "Gemm" or "MatMul")
                for (int i = 1; i < n.Inputs.Length; i++)
                    if (n.HasInput(i) && g.Initializers.TryGetValue(n.Inputs[i], out var t) && t.DataType == DataType.Float && !names.Contains(n.Inputs[i]))
                        names.Add(n.Inputs[i]);
        return names;
    }

    internal static string Ident(string s)
    {
        var id = string.Concat(s.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));
        return id.Length == 0 || char.IsDigit(id[0]) ? "M_" + id : id;
    }

    internal static string F(float x)
    {
        if (float.IsNegativeInfinity(x)) return "-3.4028235E38";
        if (float.IsPositiveInfinity(x)) return "3.4028235E38";
        var s = x.ToString("R", CultureInfo.InvariantCulture);
        if (!s.Contains('.') && !s.Contains('E')) return s + ".0";
        if (!s.Contains('.')) return s.Replace("E", ".0E");
        return s;
    }

    /// <summary>Builds the program: the live-set walk, the composite, the filters.</summary>
    internal sealed class Writer(Model model, string name, StrEmitOptions options)
    {
        private readonly IR.Graph _g = model.Graph;
        private readonly StringBuilder _filters = new();
        private readonly List<string> _adds = [];
        private readonly Dictionary<string, string> _alias = [];
        private readonly HashSet<string> _randomized = options.RandomWeightSeed is null ? [] : [.. WeightNames(model.Graph)];
        private readonly List<string> _weightOrder = WeightNames(model.Graph);
        private int _count;

        public Model Model => model;
        public string Real(string v) => _alias.TryGetValue(v, out var a) ? Real(a) : v;

        public int[] Shape(string v)
        {
            if (_g.Initializers.TryGetValue(v, out var t)) return t.Shape.ToArray();
            return (_g.TypeOf(v) as TensorType)?.Shape?.ToKnown()
                ?? throw new InputException($"--emit-str: the shape of '{v}' is not known after fixing the input sizes");
        }

        public int Size(string v) => (int)ShapeMath.Size(Shape(v));
        public bool IsConst(string v) => _g.Initializers.ContainsKey(v);
        public float[] Const(string v) => _g.Initializers[v].DataType == DataType.Float ? _g.Initializers[v].ToArray<float>()
            : throw new InputException($"--emit-str: constant '{v}' is {_g.Initializers[v].DataType}, only float32 is supported");

        public StrEmitResult Write()
        {
            var input = _g.RequiredInputs.Single().Name;
            var inShape = Shape(input);
            if (inShape.Length == 0 || inShape[0] != 1) throw new InputException($"--emit-str: input '{input}' must have batch 1 (an item is one input), not {ShapeMath.Format(inShape)}");
            var uses = new Dictionary<string, int>();
            foreach (var n in _g.Nodes) foreach (var i in n.Inputs.Where(i => i.Length > 0)) uses[i] = uses.GetValueOrDefault(i) + 1;
            var outputs = _g.Outputs.Select(o => o.Name).ToHashSet();
            var live = new List<string> { input };
            var nodes = _g.Nodes.ToList();
            var consumed = new HashSet<Node>();
            for (int k = 0; k < nodes.Count; k++)
            {
                var n = nodes[k];
                if (consumed.Contains(n)) continue;
                if (n.OpType is "Reshape" or "Flatten" or "Squeeze" or "Unsqueeze" or "Identity" or "Dropout")
                {
                    // Same items in the same order: the output is another name for the input.
                    _alias[n.Outputs[0]] = n.Inputs[0];
                    continue;
                }
                // Element-wise operators that alone consume this node's output run inside its filter.
                var post = new List<string>();
                var last = n;
                while (last.Outputs.Length == 1 && !outputs.Contains(last.Outputs[0]) && uses.GetValueOrDefault(last.Outputs[0]) == 1)
                {
                    var next = nodes.Skip(k + 1).FirstOrDefault(x => x.Inputs.Contains(last.Outputs[0]));
                    if (next is null || StrOps.PostOp(this, next, last.Outputs[0]) is not { } p) break;
                    post.Add(p);
                    consumed.Add(next);
                    last = next;
                }
                var result = last.Outputs[0];
                var reads = n.Inputs.Where(i => i.Length > 0 && !IsConst(i)).Select(Real).Distinct().ToList();
                foreach (var r in reads)
                    if (!live.Contains(r)) throw new InputException($"--emit-str: node {n.DisplayName} reads '{r}', which is not a tensor the stream carries");
                var offsets = new Dictionary<string, int>();
                int at = 0;
                foreach (var v in live) { offsets[v] = at; at += Size(v); }
                int pop = at;
                // What stays live: tensors a later node (or the caller) still reads.
                var later = nodes.Skip(k + 1).Where(x => !consumed.Contains(x)).SelectMany(x => x.Inputs).Where(i => i.Length > 0).Select(Real).ToHashSet();
                later.UnionWith(outputs.Select(Real));
                var keep = live.Where(later.Contains).ToList();
                string filter = EmitFilter(n, post, offsets, pop, Size(result), result);
                if (keep.Count == 0) _adds.Add($"add {filter}();");
                else
                {
                    string keeper = keep.SequenceEqual(live) ? "Identity<float>" : EmitKeep(live, keep);
                    _adds.Add($"add splitjoin {{ split duplicate; add {keeper}(); add {filter}(); join roundrobin({keep.Sum(Size)}, {Size(result)}); }};");
                }
                live = [.. keep, result];
                foreach (var o in n.Outputs.Skip(1).Where(o => o.Length > 0 && later.Contains(o)))
                    throw new InputException($"--emit-str: node {n.DisplayName} has several outputs in use; not supported");
            }
            var outs = _g.Outputs.Select(o => Real(o.Name)).ToList();
            if (!live.SequenceEqual(outs)) _adds.Add($"add {EmitKeep(live, outs)}();");
            int total = outs.Sum(Size);
            int inSize = Size(input);
            var sb = new StringBuilder();
            sb.AppendLine($"// {name}: written by loom stream --emit-str. One item = one input '{input}' {ShapeMath.Format(inShape)} (NCHW floats);");
            sb.AppendLine($"// the sink prints the outputs {string.Join(", ", _g.Outputs.Select(o => $"'{o.Name}' {ShapeMath.Format(Shape(Real(o.Name)))}"))}, one value a line.");
            sb.AppendLine($"void->void pipeline {name} {{");
            sb.AppendLine("    add InputSource();");
            sb.AppendLine($"    add {name}Graph();");
            sb.AppendLine("    add OutputSink();");
            sb.AppendLine("}");
            sb.AppendLine();
            sb.AppendLine($"float->float pipeline {name}Graph {{");
            foreach (var a in _adds) sb.AppendLine("    " + a);
            sb.AppendLine("}");
            sb.AppendLine();
            sb.AppendLine($"// The input: a 32-bit LCG's values k/32768 - 1 (StrRandom.Inputs, seed {options.InputSeed}).");
            sb.AppendLine("void->float filter InputSource {");
            sb.AppendLine($"    int s = {options.InputSeed};");
            sb.AppendLine($"    work push {inSize} {{");
            sb.AppendLine($"        for (int i = 0; i < {inSize}; i++) {{ s = s * {StrRandom.Multiplier} + {StrRandom.Increment}; push((float)((s >>> 8) & 65535) / 32768.0 - 1.0); }}");
            sb.AppendLine("    }");
            sb.AppendLine("}");
            sb.AppendLine();
            sb.AppendLine("float->void filter OutputSink {");
            sb.AppendLine($"    work pop {total} {{ for (int i = 0; i < {total}; i++) println(pop()); }}");
            sb.AppendLine("}");
            sb.Append(_filters);
            return new StrEmitResult(sb.ToString(), model, input, inShape, _g.Outputs.Select(o => (o.Name, Shape(Real(o.Name)))).ToList());
        }

        private string NewName(string what) => $"{Ident(what)}_{_count++}";

        private string EmitKeep(List<string> live, List<string> keep)
        {
            var offsets = new Dictionary<string, int>();
            int at = 0;
            foreach (var v in live) { offsets[v] = at; at += Size(v); }
            var f = NewName("Keep");
            _filters.AppendLine().AppendLine($"float->float filter {f} {{");
            _filters.AppendLine($"    work pop {at} push {keep.Sum(Size)} {{");
            foreach (var v in keep) _filters.AppendLine($"        for (int i = 0; i < {Size(v)}; i++) push(peek({offsets[v]} + i));");
            _filters.AppendLine($"        for (int i = 0; i < {at}; i++) pop();");
            _filters.AppendLine("    }").AppendLine("}");
            return f;
        }

        private string EmitFilter(Node n, List<string> post, Dictionary<string, int> offsets, int pop, int push, string result)
        {
            var f = NewName(n.OpType);
            var fields = new StringBuilder();
            var init = new StringBuilder();
            var ctx = new StrOps.Context(this, n, offsets, post, fields, init);
            var body = StrOps.Body(ctx);
            _filters.AppendLine().AppendLine($"// {n.DisplayName}{(post.Count > 0 ? " with the element-wise operators after it" : "")} -> '{result}' {ShapeMath.Format(Shape(result))}");
            _filters.AppendLine($"float->float filter {f} {{");
            _filters.Append(fields);
            if (init.Length > 0) _filters.AppendLine("    init {").Append(init).AppendLine("    }");
            _filters.AppendLine($"    work pop {pop} push {push} {{");
            _filters.Append(body);
            _filters.AppendLine($"        for (int i = 0; i < {pop}; i++) pop();");
            _filters.AppendLine("    }").AppendLine("}");
            return f;
        }

        /// <summary>Declares a constant as a field array of the filter being written; returns its name.</summary>
        public string Field(StrOps.Context c, string constant, float[]? values = null)
        {
            var v = values ?? Const(constant);
            var field = $"c{c.FieldCount++}";
            if (values is null && _randomized.Contains(constant))
            {
                var shape = Shape(constant);
                c.Fields.AppendLine($"    float[{v.Length}] {field};");
                c.Init.AppendLine($"        int s{field} = {WeightSeed(options.RandomWeightSeed!.Value, _weightOrder.IndexOf(constant))};");
                c.Init.AppendLine($"        for (int i = 0; i < {v.Length}; i++) {{ s{field} = s{field} * {StrRandom.Multiplier} + {StrRandom.Increment}; {field}[i] = ((float)((s{field} >>> 8) & 65535) / 32768.0 - 1.0) * {F(StrRandom.Scale(shape))}; }}");
                return field;
            }
            c.Fields.Append($"    float[{v.Length}] {field} = {{");
            for (int i = 0; i < v.Length; i++)
            {
                if (i > 0) c.Fields.Append(i % 16 == 0 ? ",\n        " : ", ");
                c.Fields.Append(F(v[i]));
            }
            c.Fields.AppendLine("};");
            return field;
        }
    }
}
