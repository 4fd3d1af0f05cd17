using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>ai.onnx.ml LabelEncoder: opset 1 (strings ↔ indices of classes_strings) and opsets 2–4 (keys_* → values_*).</summary>
[KernelRegistrations]
internal static class MlLabelEncoderKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("LabelEncoder", CreateV1, 1, 1, domain: MlBasicKernels.Domain);
        r.Add("LabelEncoder", CreateV2, 2, domain: MlBasicKernels.Domain);
    }

    private static Kernel CreateV1(KernelInfo info)
    {
        var classes = info.Node.GetAttribute("classes_strings")?.AsStrings().ToArray() ?? [];
        var classTensor = Tensor.FromArray(classes, classes.Length);
        if (info.InputDataType(0) == DataType.Int64)
            return new IndexToStringKernel(classTensor, info.GetString("default_string", "_Unused"));
        var indices = Tensor.FromArray(Enumerable.Range(0, classes.Length).Select(i => (long)i).ToArray(), classes.Length);
        return new LookupKernel(KeyIndex.Build(classTensor), indices, Tensor.Scalar(info.GetInt("default_int64", -1)));
    }

    private static Kernel CreateV2(KernelInfo info)
    {
        var keys = ListAttribute(info, "keys") ?? throw info.Fail("one of keys_strings, keys_int64s, keys_floats, keys_tensor is required");
        var values = ListAttribute(info, "values") ?? throw info.Fail("one of values_strings, values_int64s, values_floats, values_tensor is required");
        if (keys.Length != values.Length) throw info.Fail($"{keys.Length} keys but {values.Length} values");
        Tensor fallback;
        if (info.Node.GetAttribute("values_tensor") is not null)
        {
            fallback = info.Node.GetAttribute("default_tensor")?.AsTensor() ?? DefaultOf(values.DataType);
            if (fallback.DataType != values.DataType || fallback.Length != 1) throw info.Fail("default_tensor must hold one value of the values' type");
        }
        else fallback = values.DataType switch
        {
            DataType.String => Tensor.Scalar(info.GetString("default_string", "_Unused")),
            DataType.Int64 => Tensor.Scalar(info.GetInt("default_int64", -1)),
            _ => Tensor.Scalar(info.GetFloat("default_float", -0f)),
        };
        return new LookupKernel(KeyIndex.Build(keys), values, fallback);
    }

    /// <summary>keys_* / values_*: the tensor attribute or one of the typed lists, as a 1-D tensor.</summary>
    private static Tensor? ListAttribute(KernelInfo info, string prefix)
    {
        var n = info.Node;
        if (n.GetAttribute(prefix + "_tensor") is { } t) return t.AsTensor().Reshape([t.AsTensor().Length]);
        if (n.GetAttribute(prefix + "_strings") is { } s) return Tensor.FromArray(s.AsStrings().ToArray(), s.AsStrings().Length);
        if (n.GetAttribute(prefix + "_int64s") is { } i) return Tensor.FromArray(i.AsInts().ToArray(), i.AsInts().Length);
        if (n.GetAttribute(prefix + "_floats") is { } f) return Tensor.FromArray(f.AsFloats().ToArray(), f.AsFloats().Length);
        return null;
    }

    /// <summary>The spec's default for a values_tensor without default_tensor.</summary>
    private static Tensor DefaultOf(DataType dt) => dt == DataType.String ? Tensor.Scalar("_Unused")
        : dt.IsFloatingPoint() ? ImageNumerics.ScalarOf(dt, -0.0) : ImageNumerics.ScalarOf(dt, -1);

    /// <summary>Position of each key (the last one wins when repeated); float keys match NaN to NaN.</summary>
    private sealed class KeyIndex
    {
        private readonly DataType _type;
        private readonly Dictionary<string, int>? _strings;
        private readonly Dictionary<long, int>? _ints;
        private readonly Dictionary<double, int>? _floats;
        private readonly int _nan = -1;

        private KeyIndex(Tensor keys)
        {
            _type = keys.DataType;
            if (_type == DataType.String)
            {
                _strings = new(StringComparer.Ordinal);
                var k = keys.ToArray<string>();
                for (int i = 0; i < k.Length; i++) _strings[k[i]] = i;
            }
            else if (_type.IsFloatingPoint())
            {
                _floats = new();
                var k = ImageNumerics.ToDoubles(keys);
                for (int i = 0; i < k.Length; i++)
                    if (double.IsNaN(k[i])) _nan = i; else _floats[k[i] + 0.0] = i; // + 0.0 folds -0 into 0
            }
            else
            {
                _ints = new();
                var k = ImageNumerics.ReadLongs(keys);
                for (int i = 0; i < k.Length; i++) _ints[k[i]] = i;
            }
        }

        public static KeyIndex Build(Tensor keys) => new(keys);

        /// <summary>For each element of <paramref name="x"/>, the index of its key or -1.</summary>
        public int[] Lookup(KernelContext ctx, Tensor x)
        {
            bool compatible = x.DataType == _type || x.DataType.IsFloatingPoint() && _floats is not null || x.DataType.IsInteger() && _ints is not null;
            if (!compatible) throw ctx.Fail($"input is {x.DataType.Name()} but the keys are {_type.Name()}");
            var r = new int[x.Length];
            if (_strings is not null)
            {
                var s = x.AsSpan<string>();
                for (int i = 0; i < r.Length; i++) r[i] = _strings.GetValueOrDefault(s[i], -1);
            }
            else if (_floats is not null)
            {
                var v = ImageNumerics.ToDoubles(x);
                for (int i = 0; i < r.Length; i++) r[i] = double.IsNaN(v[i]) ? _nan : _floats.GetValueOrDefault(v[i] + 0.0, -1);
            }
            else
            {
                var v = ImageNumerics.ReadLongs(x);
                for (int i = 0; i < r.Length; i++) r[i] = _ints!.GetValueOrDefault(v[i], -1);
            }
            return r;
        }
    }

    private sealed class LookupKernel(KeyIndex keys, Tensor values, Tensor fallback) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var index = keys.Lookup(ctx, x);
            var y = ctx.AllocateOutput(0, values.DataType, x.Shape);
            ImageGather.Dispatch(values.DataType, new Pick(values, fallback, index, y));
        }
    }

    /// <summary>LabelEncoder-1 from int64: classes_strings[x], or the default when out of range.</summary>
    private sealed class IndexToStringKernel(Tensor classes, string fallback) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var v = x.AsSpan<long>();
            var index = new int[v.Length];
            for (int i = 0; i < v.Length; i++) index[i] = v[i] >= 0 && v[i] < classes.Length ? (int)v[i] : -1;
            var y = ctx.AllocateOutput(0, DataType.String, x.Shape);
            new Pick(classes, Tensor.Scalar(fallback), index, y).Invoke<string>();
        }
    }

    private readonly record struct Pick(Tensor Values, Tensor Fallback, int[] Index, Tensor Y) : IElementTypeAction
    {
        public void Invoke<T>()
        {
            var v = Values.AsReadOnlySpan<T>();
            T d = Fallback.AsReadOnlySpan<T>()[0];
            var dst = Y.AsSpan<T>();
            for (int i = 0; i < Index.Length; i++) dst[i] = Index[i] >= 0 ? v[Index[i]] : d;
        }
    }
}
