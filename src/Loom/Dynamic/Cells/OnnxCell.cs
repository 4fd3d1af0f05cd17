using Loom.Import.Onnx;
using Loom.IR;

namespace Loom.Dynamic.Cells;

/// <summary>
/// A cell given as an ONNX model (an exported leaf or internal cell): every graph input is a per-instance argument
/// of shape [D] or [1, D], every initializer a shared parameter, and the nodes — MatMul and Gemm against
/// initializers, Add, Sub, Mul, Sum, Sigmoid, Tanh, Concat on the last axis, Identity — are translated into the
/// cell's primitives, so the cell batches exactly like one written in C#. A MatMul or Gemm followed by the Add of
/// a constant vector becomes one affine with its bias; <c>1 − z</c> becomes OneMinus. One model with an <c>If</c>
/// choosing between the two kinds of node gives both cells (<see cref="LoadIf(string)"/>).
/// </summary>
public static class OnnxCell
{
    public static Cell Load(string path) => FromModel(OnnxImporter.Load(path), Path.GetFileName(path));

    public static Cell Load(byte[] bytes, string name) => FromModel(OnnxImporter.Load(bytes), name);

    /// <summary>
    /// One model for both kinds of node: a single <c>If</c> on a boolean graph input (is this node a leaf?) whose
    /// branches read the other graph inputs. Each branch becomes a cell over the inputs it reads; the caller, who knows
    /// at build time which kind of node it is at, applies one or the other.
    /// </summary>
    public static (Cell Then, Cell Else) LoadIf(string path) => FromIf(OnnxImporter.Load(path), Path.GetFileName(path));

    public static (Cell Then, Cell Else) LoadIf(byte[] bytes, string name) => FromIf(OnnxImporter.Load(bytes), name);

    private static (Cell, Cell) FromIf(Model model, string name)
    {
        var g = model.Graph;
        if (g.Nodes.Length != 1 || g.Nodes[0].OpType != "If")
            throw new UnsupportedException($"{name}: a cell model with branches must be one If node (found {string.Join(", ", g.Nodes.Select(n => n.OpType))})");
        var node = g.Nodes[0];
        string cond = node.Inputs[0];
        if (!g.RequiredInputs.Any(i => i.Name == cond))
            throw new UnsupportedException($"{name}: the If condition '{cond}' must be a graph input (the caller decides per node)");
        if (!g.Outputs.Select(o => o.Name).SequenceEqual(node.Outputs))
            throw new UnsupportedException($"{name}: the graph outputs must be the If node's outputs, in order");
        Cell Branch(string attr)
        {
            var sub = node.GetAttribute(attr)?.AsGraph() ?? throw new ModelFormatException($"{name}: If node has no {attr}");
            var read = sub.Nodes.SelectMany(n => n.Inputs).ToHashSet();
            var args = g.RequiredInputs.Where(i => i.Name != cond && read.Contains(i.Name)).ToArray();
            var dims = args.Select(a => VectorSize(name, a.Name, g.TypeOf(a.Name))).ToArray();
            return Cell.Trace($"{Path.GetFileNameWithoutExtension(name)}.{attr}", dims, xs =>
            {
                var t = new Translator(name, [sub, g]);
                for (int i = 0; i < args.Length; i++) t.Values[args[i].Name] = new Value(xs[i]);
                foreach (var n in sub.Nodes) t.Run(n);
                return sub.Outputs.Select(o => t.Expr(o.Name, $"{attr} output '{o.Name}'")).ToArray();
            });
        }
        return (Branch("then_branch"), Branch("else_branch"));
    }

    private static Cell FromModel(Model model, string name)
    {
        var g = model.Graph;
        var args = g.RequiredInputs.ToArray();
        var dims = args.Select(a => VectorSize(name, a.Name, g.TypeOf(a.Name))).ToArray();
        return Cell.Trace(Path.GetFileNameWithoutExtension(name), dims, xs =>
        {
            var t = new Translator(name, [g]);
            for (int i = 0; i < args.Length; i++) t.Values[args[i].Name] = new Value(xs[i]);
            foreach (var node in g.Nodes) t.Run(node);
            return g.Outputs.Select(o => t.Expr(o.Name, $"output '{o.Name}'")).ToArray();
        });
    }

    private static int VectorSize(string model, string input, IrType? type)
    {
        var dims = (type as TensorType)?.Shape?.ToKnown();
        int d = dims is [int a] ? a : dims is [1, int b] ? b : 0;
        if (d > 0) return d;
        throw new UnsupportedException($"{model}: cell input '{input}' must have a known shape [D] or [1, D], not {type?.ToString() ?? "no declared shape"}");
    }

    /// <summary>A translated value: an expression, an affine still open for a bias, or a constant.</summary>
    private sealed class Value
    {
        public Value(Expr e) => E = e;
        public Value(float[] c, int[] shape) { Const = c; Shape = shape; }
        public Value(List<(Parameter, Expr)> terms, Parameter? bias) { Terms = terms; Bias = bias; }
        public Expr? E;
        public float[]? Const;
        public int[]? Shape;
        public List<(Parameter W, Expr X)>? Terms;
        public Parameter? Bias;
    }

    private sealed class Translator(string model, Graph[] graphs)
    {
        public readonly Dictionary<string, Value> Values = [];
        private int _params;

        public Expr Expr(string name, string what)
        {
            var v = Get(name, what);
            if (v.Terms is not null)
            {
                v.E = Dynamic.Expr.Affine(v.Bias, [.. v.Terms]);
                v.Terms = null;
            }
            return v.E ?? throw new UnsupportedException($"{model}: {what} is a constant; a cell computes per-instance values only");
        }

        private Value Get(string name, string what)
        {
            if (Values.TryGetValue(name, out var v)) return v;
            if (graphs.Select(gr => gr.Initializers.GetValueOrDefault(name)).FirstOrDefault(x => x is not null) is { } t)
            {
                if (t.DataType != DataType.Float) throw new UnsupportedException($"{model}: initializer '{name}' ({what}) must be float32");
                return Values[name] = new Value(t.ToArray<float>(), t.Shape.ToArray());
            }
            throw new ModelFormatException($"{model}: {what} reads '{name}', which no input, initializer or earlier node defines");
        }

        public void Run(Node n)
        {
            string In(int i) => n.Inputs[i];
            string what = $"node {n.DisplayName}";
            Value result = n.OpType switch
            {
                "MatMul" => Affine(n, what, In(0), In(1), transB: false, alpha: 1, bias: n.Inputs.Length > 2 ? In(2) : null, beta: 1),
                "Gemm" => Gemm(n, what),
                "Add" => Add(Get(In(0), what), Get(In(1), what), what),
                "Sub" => Sub(In(0), In(1), what),
                "Mul" => new Value(Expr(In(0), what) * Expr(In(1), what)),
                "Sum" => new Value(Dynamic.Expr.Sum([.. n.Inputs.Select(x => Expr(x, what))])),
                "Sigmoid" => new Value(Dynamic.Expr.Logistic(Expr(In(0), what))),
                "Tanh" => new Value(Dynamic.Expr.Tanh(Expr(In(0), what))),
                "Identity" => Get(In(0), what),
                "Concat" => Concat(n, what),
                _ => throw new UnsupportedException($"{model}: {what}: {n.OpType} is not supported in a cell (MatMul, Gemm, Add, Sub, Mul, Sum, Sigmoid, Tanh, Concat, Identity are)"),
            };
            Values[n.Outputs[0]] = result;
        }

        private Value Gemm(Node n, string what)
        {
            if (n.GetInt("transA", 0) != 0) throw new UnsupportedException($"{model}: {what}: Gemm with transA = 1 is not supported in a cell");
            return Affine(n, what, n.Inputs[0], n.Inputs[1], n.GetInt("transB", 0) != 0, n.GetFloat("alpha", 1f),
                n.HasInput(2) ? n.Inputs[2] : null, n.GetFloat("beta", 1f));
        }

        /// <summary><c>x · B (+ C)</c> with B a constant: a parameter W = Bᵀ (rows = outputs), so the term is W x.</summary>
        private Value Affine(Node n, string what, string x, string b, bool transB, float alpha, string? bias, float beta)
        {
            var xe = Expr(x, what);
            var bv = Get(b, what);
            if (bv.Const is null || bv.Shape is not [int r, int c])
                throw new UnsupportedException($"{model}: {what}: the right operand '{b}' must be a constant matrix (a shared parameter)");
            int k = transB ? c : r, outDim = transB ? r : c;
            var w = NewParameter(b, outDim, k);
            for (int o = 0; o < outDim; o++)
                for (int i = 0; i < k; i++) w.Value[o * k + i] = alpha * (transB ? bv.Const[o * c + i] : bv.Const[i * c + o]);
            if (xe.Dim != k) throw new ShapeException($"{model}: {what}: '{x}' has {xe.Dim} values but '{b}' takes {k}");
            var v = new Value([(w, xe)], null);
            return bias is null ? v : Add(v, Scaled(Get(bias, what), beta), what);
        }

        private static Value Scaled(Value v, float s) => s == 1f || v.Const is null ? v : new Value(v.Const.Select(x => x * s).ToArray(), v.Shape!);

        private Value Add(Value a, Value b, string what)
        {
            if (a.Const is not null) (a, b) = (b, a);
            if (a.Terms is not null && b.Terms is not null)
                return new Value([.. a.Terms, .. b.Terms], SumBias(a.Bias, b.Bias?.Value, what));
            if (a.Terms is not null && b.Const is not null)
            {
                int dim = a.Terms[0].W.Rows;
                if (b.Const.Length != dim) throw new UnsupportedException($"{model}: {what}: a bias of {b.Const.Length} values added to {dim} (broadcasting is not supported in a cell)");
                return new Value(a.Terms, SumBias(a.Bias, b.Const, what));
            }
            if (b.Const is not null) throw new UnsupportedException($"{model}: {what}: adding a constant is supported only right after MatMul or Gemm (as the bias)");
            return new Value(AsExpr(a) + AsExpr(b));
        }

        private Parameter? SumBias(Parameter? a, float[]? b, string what)
        {
            if (b is null) return a;
            var p = NewParameter("bias", b.Length, 1);
            for (int i = 0; i < b.Length; i++) p.Value[i] = b[i] + (a?.Value[i] ?? 0);
            return p;
        }

        private Value Sub(string a, string b, string what)
        {
            var av = Get(a, what);
            if (av.Const is not null)
            {
                if (av.Const.All(x => x == 1f)) return new Value(Dynamic.Expr.OneMinus(Expr(b, what)));
                throw new UnsupportedException($"{model}: {what}: only 1 − x may subtract from a constant in a cell");
            }
            return new Value(Expr(a, what) - Expr(b, what));
        }

        private Value Concat(Node n, string what)
        {
            long axis = n.GetInt("axis", -1);
            var ins = n.Inputs.Select(x => Expr(x, what)).ToArray();
            // Every value is [1, D] (or [D]), so only the last axis holds more than one value.
            if (axis is not (-1 or 1) && !(axis == 0 && graphs.Select(gr => gr.TypeOf(n.Inputs[0])).FirstOrDefault(x => x is not null) is TensorType { Rank: 1 }))
                throw new UnsupportedException($"{model}: {what}: Concat on axis {axis}; a cell concatenates vectors on the last axis");
            return new Value(Dynamic.Expr.Concat(ins));
        }

        private static Expr AsExpr(Value v)
        {
            if (v.Terms is not null) { v.E = Dynamic.Expr.Affine(v.Bias, [.. v.Terms]); v.Terms = null; }
            return v.E!.Value;
        }

        private Parameter NewParameter(string name, int rows, int cols) => new($"{model}:{name}#{_params++}", rows, cols);
    }
}
