using System.Numerics;
using System.Runtime.CompilerServices;
using Loom.Kernels.Common;

namespace Loom.Kernels.Reference;

/// <summary>Comparisons, boolean logic, bitwise ops and BitShift, all with NumPy broadcasting.</summary>
[KernelRegistrations]
internal static class ElementwiseLogicKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Equal", info => new ComparisonKernel<EqualOp>(equality: true, LegacyBroadcast.From(info)));
        r.Add("Greater", info => new ComparisonKernel<GreaterOp>(legacy: LegacyBroadcast.From(info)));
        r.Add("Less", info => new ComparisonKernel<LessOp>(legacy: LegacyBroadcast.From(info)));
        r.Add("GreaterOrEqual", _ => new ComparisonKernel<GreaterOrEqualOp>());
        r.Add("LessOrEqual", _ => new ComparisonKernel<LessOrEqualOp>());
        r.Add("And", info => new LogicKernel<AndOp>(LegacyBroadcast.From(info)));
        r.Add("Or", info => new LogicKernel<OrOp>(LegacyBroadcast.From(info)));
        r.Add("Xor", info => new LogicKernel<XorOp>(LegacyBroadcast.From(info)));
        r.Add("BitwiseAnd", _ => new BinaryIntegerKernel<BitwiseAndOp>());
        r.Add("BitwiseOr", _ => new BinaryIntegerKernel<BitwiseOrOp>());
        r.Add("BitwiseXor", _ => new BinaryIntegerKernel<BitwiseXorOp>());
        r.Add("BitShift", info => info.GetString("direction", "") switch
        {
            "LEFT" => new BinaryIntegerKernel<ShiftLeftOp>(),
            "RIGHT" => new BinaryIntegerKernel<ShiftRightOp>(),
            var d => throw info.Fail($"direction must be 'LEFT' or 'RIGHT', not '{d}'"),
        });
    }

    private struct EqualOp : IComparisonOp { public static bool Invoke<T>(T x, T y) where T : INumber<T> => x == y; }
    private struct GreaterOp : IComparisonOp { public static bool Invoke<T>(T x, T y) where T : INumber<T> => x > y; }
    private struct LessOp : IComparisonOp { public static bool Invoke<T>(T x, T y) where T : INumber<T> => x < y; }
    private struct GreaterOrEqualOp : IComparisonOp { public static bool Invoke<T>(T x, T y) where T : INumber<T> => x >= y; }
    private struct LessOrEqualOp : IComparisonOp { public static bool Invoke<T>(T x, T y) where T : INumber<T> => x <= y; }

    private struct AndOp : ILogicOp { public static bool Invoke(bool x, bool y) => x & y; }
    private struct OrOp : ILogicOp { public static bool Invoke(bool x, bool y) => x | y; }
    private struct XorOp : ILogicOp { public static bool Invoke(bool x, bool y) => x ^ y; }

    private struct BitwiseAndOp : IBinaryIntegerOp { public static T Invoke<T>(T x, T y) where T : IBinaryInteger<T> => x & y; }
    private struct BitwiseOrOp : IBinaryIntegerOp { public static T Invoke<T>(T x, T y) where T : IBinaryInteger<T> => x | y; }
    private struct BitwiseXorOp : IBinaryIntegerOp { public static T Invoke<T>(T x, T y) where T : IBinaryInteger<T> => x ^ y; }

    /// <summary>Shifting by the bit width or more gives 0 (C# would shift by the amount modulo the width).</summary>
    private struct ShiftLeftOp : IBinaryIntegerOp
    {
        public static T Invoke<T>(T x, T y) where T : IBinaryInteger<T> => InRange(y) ? x << int.CreateTruncating(y) : T.Zero;
        internal static bool InRange<T>(T y) where T : IBinaryInteger<T> => !T.IsNegative(y) && y < T.CreateTruncating(Unsafe.SizeOf<T>() * 8);
    }

    private struct ShiftRightOp : IBinaryIntegerOp
    {
        public static T Invoke<T>(T x, T y) where T : IBinaryInteger<T> => ShiftLeftOp.InRange(y) ? x >>> int.CreateTruncating(y) : T.Zero;
    }
}
