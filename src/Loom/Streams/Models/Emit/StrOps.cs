using System.Text;
using Loom.IR;

namespace Loom.Streams.Models.Emit;

/// <summary>
/// The work code of each operator's filter, as StreamIt text: inputs are read with <c>peek</c> at their offset in
/// the popped live set, constants are field arrays (or literals), outputs are pushed in NCHW order after the fused
/// element-wise operators (<see cref="PostOp"/>) have run on each value <c>v</c>.
/// </summary>
internal static class StrOps
{
    internal sealed class Context(StrEmitter.Writer writer, Node node, Dictionary<string, int> offsets, List<string> post, StringBuilder fields, StringBuilder init)
    {
        public Node Node { get; } = node;
        public Dictionary<string, int> Offsets { get; } = offsets;
        public List<string> Post { get; } = post;
        public StringBuilder Fields { get; } = fields;
        public StringBuilder Init { get; } = init;
        public int FieldCount;
        public StrEmitter.Writer W => writer;
    }

    private static string F(float x) => StrEmitter.F(x);

    /// <summary>The fused element-wise operators, then the push.</summary>
    private static string Emit(Context c) => string.Concat(c.Post.Select(p => p + " ")) + "push(v);";

    /// <summary>
    /// <paramref name="n"/> as statements on <c>v</c> (the value of its input <paramref name="input"/>), when it is an
    /// element-wise operator of that one input (other operands scalar constants); else null.
    /// </summary>
    public static string? PostOp(StrEmitter.Writer w, Node n, string input)
    {
        float? Scalar(int i)
        {
            if (!n.HasInput(i) || !w.IsConst(n.Inputs[i])) return null;
            float[] v = w.Const(n.Inputs[i]);
            return v.Length == 1 ? v[0] : null;
        }
        switch (n.OpType)
        {
            case "Relu": return "if (v < 0.0) v = 0.0;";
            case "LeakyRelu": return $"if (v < 0.0) v = {F(n.GetFloat("alpha", 0.01f))} * v;";
            case "Sigmoid": return "v = 1.0 / (1.0 + exp(-v));";
            case "HardSigmoid":
                return $"v = {F(n.GetFloat("alpha", 0.2f))} * v + {F(n.GetFloat("beta", 0.5f))}; if (v < 0.0) v = 0.0; if (v > 1.0) v = 1.0;";
            case "Clip":
            {
                float lo = n.HasAttribute("min") ? n.GetFloat("min", float.MinValue) : Scalar(1) ?? float.NegativeInfinity;
                float hi = n.HasAttribute("max") ? n.GetFloat("max", float.MaxValue) : Scalar(2) ?? float.PositiveInfinity;
                if ((n.HasInput(1) && Scalar(1) is null) || (n.HasInput(2) && Scalar(2) is null)) return null;
                return $"if (v < {F(lo)}) v = {F(lo)}; if (v > {F(hi)}) v = {F(hi)};";
            }
            case "Add" or "Sub" or "Mul" or "Div" when n.Inputs.Length == 2:
            {
                string op = n.OpType switch { "Add" => "+", "Sub" => "-", "Mul" => "*", _ => "/" };
                if (n.Inputs[0] == input && Scalar(1) is { } b) return $"v = v {op} {F(b)};";
                if (n.Inputs[1] == input && Scalar(0) is { } a) return $"v = {F(a)} {op} v;";
                return null;
            }
            default: return null;
        }
    }

    private static int[] Ints(Node n, string attr, int count, int dflt)
    {
        var a = n.GetInts(attr);
        return a is { } v ? v.Select(x => (int)x).ToArray() : Enumerable.Repeat(dflt, count).ToArray();
    }

    public static string Body(Context c)
    {
        var n = c.Node;
        var w = c.W;
        string In(int i) => w.Real(n.Inputs[i]);
        int[] S(string v) => w.Shape(v);
        // Shapes by the node's own input names: a Reshape before it is free (same items), but its shape counts here.
        int[] SI(int i) => w.Shape(n.Inputs[i]);
        var sb = new StringBuilder();
        void L(string s) => sb.AppendLine("        " + s);
        string result = n.Outputs[0];
        switch (n.OpType)
        {
            case "Conv":
            {
                var x = In(0);
                int[] xs = SI(0), ws = S(n.Inputs[1]), ys = S(result);
                if (xs.Length != 4) throw Unsupported(n, "a Conv that is not 2-D");
                if (n.GetString("auto_pad", "NOTSET") is not ("NOTSET" or "VALID")) throw Unsupported(n, "auto_pad");
                int group = (int)n.GetInt("group", 1), C = xs[1], H = xs[2], W = xs[3], M = ws[0], KH = ws[2], KW = ws[3];
                var pads = Ints(n, "pads", 4, 0);
                var st = Ints(n, "strides", 2, 1);
                var dl = Ints(n, "dilations", 2, 1);
                int CG = C / group, MG = M / group, OH = ys[2], OW = ys[3], xo = c.Offsets[x];
                string wf = w.Field(c, n.Inputs[1]);
                string bias = n.HasInput(2) ? $"{w.Field(c, n.Inputs[2])}[m]" : "0.0";
                L($"for (int m = 0; m < {M}; m++) {{");
                L($"    int g0 = (m / {MG}) * {CG};");
                L($"    for (int oh = 0; oh < {OH}; oh++) for (int ow = 0; ow < {OW}; ow++) {{");
                L($"        float v = {bias};");
                L($"        for (int c = 0; c < {CG}; c++) for (int kh = 0; kh < {KH}; kh++) {{");
                L($"            int ih = oh * {st[0]} - {pads[0]} + kh * {dl[0]};");
                L($"            if (ih >= 0 && ih < {H}) for (int kw = 0; kw < {KW}; kw++) {{");
                L($"                int iw = ow * {st[1]} - {pads[1]} + kw * {dl[1]};");
                L($"                if (iw >= 0 && iw < {W}) v += peek({xo} + ((g0 + c) * {H} + ih) * {W} + iw) * {wf}[((m * {CG} + c) * {KH} + kh) * {KW} + kw];");
                L("            }");
                L("        }");
                L($"        {Emit(c)}");
                L("    }");
                L("}");
                break;
            }
            case "MaxPool" or "AveragePool":
            {
                var x = In(0);
                int[] xs = SI(0), ys = S(result);
                if (xs.Length != 4) throw Unsupported(n, "a pool that is not 2-D");
                if (n.GetString("auto_pad", "NOTSET") is not ("NOTSET" or "VALID")) throw Unsupported(n, "auto_pad");
                var k = Ints(n, "kernel_shape", 2, 1);
                var pads = Ints(n, "pads", 4, 0);
                var st = Ints(n, "strides", 2, 1);
                int C = xs[1], H = xs[2], W = xs[3], OH = ys[2], OW = ys[3], xo = c.Offsets[x];
                bool max = n.OpType == "MaxPool", includePad = n.GetInt("count_include_pad", 0) != 0;
                L($"for (int c = 0; c < {C}; c++) for (int oh = 0; oh < {OH}; oh++) for (int ow = 0; ow < {OW}; ow++) {{");
                L($"    float v = {(max ? "-3.4028235E38" : "0.0")}; int count = 0;");
                L($"    for (int kh = 0; kh < {k[0]}; kh++) {{");
                L($"        int ih = oh * {st[0]} - {pads[0]} + kh;");
                L($"        if (ih >= 0 && ih < {H}) for (int kw = 0; kw < {k[1]}; kw++) {{");
                L($"            int iw = ow * {st[1]} - {pads[1]} + kw;");
                L($"            if (iw >= 0 && iw < {W}) {{ float x = peek({xo} + (c * {H} + ih) * {W} + iw); {(max ? "if (x > v) v = x;" : "v += x;")} count++; }}");
                L("        }");
                L("    }");
                if (!max) L(includePad ? $"    v = v / {F(k[0] * k[1])};" : "    v = v / count;");
                L($"    {Emit(c)}");
                L("}");
                break;
            }
            case "GlobalAveragePool":
            {
                var x = In(0);
                int[] xs = SI(0);
                int C = xs[1], HW = xs.Skip(2).Aggregate(1, (a, b) => a * b), xo = c.Offsets[x];
                L($"for (int c = 0; c < {C}; c++) {{");
                L($"    float v = 0.0; for (int i = 0; i < {HW}; i++) v += peek({xo} + c * {HW} + i);");
                L($"    v = v / {F(HW)};");
                L($"    {Emit(c)}");
                L("}");
                break;
            }
            case "Relu" or "LeakyRelu" or "Sigmoid" or "HardSigmoid" or "Clip":
            {
                var x = In(0);
                var own = PostOp(w, n, n.Inputs[0]) ?? throw Unsupported(n, "a Clip with bounds that are not constants");
                L($"for (int i = 0; i < {w.Size(n.Inputs[0])}; i++) {{ float v = peek({c.Offsets[x]} + i); {own} {Emit(c)} }}");
                break;
            }
            case "Add" or "Sub" or "Mul" or "Div":
            {
                int[] ys = S(result);
                string op = n.OpType switch { "Add" => "+", "Sub" => "-", "Mul" => "*", _ => "/" };
                string Operand(int i)
                {
                    var name = n.Inputs[i];
                    int[] s = S(name);
                    string idx = BroadcastIndex(s, ys);
                    if (w.IsConst(name))
                    {
                        float[] v = w.Const(name);
                        return v.Length == 1 ? F(v[0]) : $"{w.Field(c, name)}[{idx}]";
                    }
                    return $"peek({c.Offsets[In(i)]} + {idx})";
                }
                string a = Operand(0), b = Operand(1);
                L($"for (int i = 0; i < {ys.Aggregate(1, (p, q) => p * q)}; i++) {{ float v = {a} {op} {b}; {Emit(c)} }}");
                break;
            }
            case "Concat":
            {
                int[] ys = S(result);
                int axis = (int)n.GetInt("axis", 0);
                if (axis < 0) axis += ys.Length;
                int outer = ys.Take(axis).Aggregate(1, (p, q) => p * q);
                L($"for (int o = 0; o < {outer}; o++) {{");
                for (int i = 0; i < n.Inputs.Length; i++)
                {
                    var x = In(i);
                    int inner = SI(i).Skip(axis).Aggregate(1, (p, q) => p * q);
                    L($"    for (int i = 0; i < {inner}; i++) {{ float v = peek({c.Offsets[x]} + o * {inner} + i); {Emit(c)} }}");
                }
                L("}");
                break;
            }
            case "Softmax":
            {
                var x = In(0);
                int[] xs = SI(0);
                int axis = (int)n.GetInt("axis", 1);
                if (axis < 0) axis += xs.Length;
                int opset = (w.Model.Opsets.Versions.TryGetValue("", out int ov) ? ov : 13);
                int rows = xs.Take(axis).Aggregate(1, (p, q) => p * q), cols = xs.Skip(axis).Aggregate(1, (p, q) => p * q);
                if (opset >= 13 && xs.Skip(axis + 1).Any(d => d != 1)) throw Unsupported(n, "a Softmax over an inner axis");
                int xo = c.Offsets[x];
                L($"for (int r = 0; r < {rows}; r++) {{");
                L($"    float mx = -3.4028235E38; for (int j = 0; j < {cols}; j++) {{ float x = peek({xo} + r * {cols} + j); if (x > mx) mx = x; }}");
                L($"    float sum = 0.0; for (int j = 0; j < {cols}; j++) sum += exp(peek({xo} + r * {cols} + j) - mx);");
                L($"    for (int j = 0; j < {cols}; j++) {{ float v = exp(peek({xo} + r * {cols} + j) - mx) / sum; {Emit(c)} }}");
                L("}");
                break;
            }
            case "MatMul" or "Gemm":
            {
                var a = In(0);
                int[] sa = SI(0), sb2 = S(n.Inputs[1]);
                if (!w.IsConst(n.Inputs[1]) || sb2.Length != 2) throw Unsupported(n, "a matrix product whose second operand is not a constant matrix");
                bool transA = n.GetInt("transA", 0) != 0, transB = n.GetInt("transB", 0) != 0;
                if (transA) throw Unsupported(n, "transA");
                float alpha = n.OpType == "Gemm" ? n.GetFloat("alpha", 1f) : 1f, beta = n.OpType == "Gemm" ? n.GetFloat("beta", 1f) : 1f;
                int K = sa[^1], M = sa.Aggregate(1, (p, q) => p * q) / K, N = transB ? sb2[0] : sb2[1];
                string bf = w.Field(c, n.Inputs[1]);
                string bIdx = transB ? $"j * {K} + k" : $"k * {N} + j";
                string bias = "0.0";
                if (n.OpType == "Gemm" && n.HasInput(2))
                {
                    float[] cv = w.Const(n.Inputs[2]);
                    bias = cv.Length == 1 ? F(cv[0] * beta) : $"{F(beta)} * {w.Field(c, n.Inputs[2])}[{(cv.Length == N ? "j" : $"i * {N} + j")}]";
                }
                int ao = c.Offsets[a];
                L($"for (int i = 0; i < {M}; i++) for (int j = 0; j < {N}; j++) {{");
                L($"    float v = 0.0; for (int k = 0; k < {K}; k++) v += peek({ao} + i * {K} + k) * {bf}[{bIdx}];");
                L($"    v = {F(alpha)} * v + {bias};");
                L($"    {Emit(c)}");
                L("}");
                break;
            }
            case "BatchNormalization":
            {
                var x = In(0);
                int[] xs = SI(0);
                float eps = n.GetFloat("epsilon", 1e-5f);
                float[] sc = w.Const(n.Inputs[1]), bb = w.Const(n.Inputs[2]), mean = w.Const(n.Inputs[3]), vr = w.Const(n.Inputs[4]);
                var mul = sc.Select((s, i) => s / MathF.Sqrt(vr[i] + eps)).ToArray();
                var add = bb.Select((b, i) => b - mean[i] * mul[i]).ToArray();
                int C = xs[1], HW = xs.Skip(2).Aggregate(1, (p, q) => p * q);
                string mf = w.Field(c, "", mul), af = w.Field(c, "", add);
                L($"for (int c = 0; c < {C}; c++) for (int i = 0; i < {HW}; i++) {{ float v = peek({c.Offsets[x]} + c * {HW} + i) * {mf}[c] + {af}[c]; {Emit(c)} }}");
                break;
            }
            default: throw Unsupported(n, $"the operator {n.OpType}");
        }
        return sb.ToString();
    }

    /// <summary>The flat index into a tensor of shape <paramref name="s"/> broadcast to <paramref name="y"/>, for output index i.</summary>
    private static string BroadcastIndex(int[] s, int[] y)
    {
        if (s.SequenceEqual(y)) return "i";
        var terms = new List<string>();
        int r = y.Length, off = r - s.Length, outStride = 1, inStride = 1;
        var inStrides = new int[s.Length];
        for (int k = s.Length - 1; k >= 0; k--) { inStrides[k] = inStride; inStride *= s[k]; }
        for (int k = r - 1; k >= 0; k--)
        {
            int sk = k - off;
            if (sk >= 0 && s[sk] != 1) terms.Add($"((i / {outStride}) % {y[k]}) * {inStrides[sk]}");
            outStride *= y[k];
        }
        return terms.Count == 0 ? "0" : string.Join(" + ", terms);
    }

    private static InputException Unsupported(Node n, string what) => new($"--emit-str: node {n.DisplayName}: {what} is not supported");
}
