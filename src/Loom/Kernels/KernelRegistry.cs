namespace Loom.Kernels;

/// <summary>Creates the kernel for one node.</summary>
public delegate Kernel KernelFactory(KernelInfo info);

/// <summary>Marks a static class with a <c>public static void Register(KernelRegistry registry)</c> method that adds kernels.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class KernelRegistrationsAttribute : System.Attribute { }

/// <summary>
/// Kernels by operator (domain, op type), opset range and dtype, as ONNX Runtime's CPU provider keys
/// them. A node gets the matching registration with the highest priority; a registration limited to
/// some dtypes beats a generic one of equal priority. So a fast float32 kernel replaces the reference
/// one for exactly the operator, opsets and dtype it was written for.
/// </summary>
public sealed class KernelRegistry
{
    private readonly Dictionary<(string Domain, string Op), List<Registration>> _byOp = new();

    private sealed record Registration(int SinceVersion, int EndVersion, DataType[]? Types, int TypeInput, int Priority, KernelFactory Factory);

    /// <summary>
    /// Registers <paramref name="factory"/> for <paramref name="opType"/> at opsets
    /// <paramref name="sinceVersion"/>..<paramref name="endVersion"/> (inclusive), optionally only when
    /// input <paramref name="typeInput"/> has one of <paramref name="types"/>.
    /// </summary>
    public void Add(string opType, KernelFactory factory, int sinceVersion = 1, int endVersion = int.MaxValue,
        string domain = "", DataType[]? types = null, int typeInput = 0, int priority = 0)
    {
        var key = (domain, opType);
        if (!_byOp.TryGetValue(key, out var list)) _byOp[key] = list = new List<Registration>();
        list.Add(new Registration(sinceVersion, endVersion, types, typeInput, priority, factory));
    }

    public bool Contains(string domain, string opType) => _byOp.ContainsKey((domain, opType));

    public IEnumerable<(string Domain, string OpType)> Operators => _byOp.Keys;

    /// <summary>Finds the factory for a node, or explains why there is none.</summary>
    public KernelFactory Resolve(KernelInfo info)
    {
        var node = info.Node;
        if (!_byOp.TryGetValue((node.Domain, node.OpType), out var list))
            throw new UnsupportedException($"node {node.DisplayName}: operator {(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType} is not supported");
        Registration? best = null;
        foreach (var r in list)
        {
            if (info.Opset < r.SinceVersion || info.Opset > r.EndVersion) continue;
            if (r.Types is not null && !r.Types.Contains(info.InputDataType(r.TypeInput))) continue;
            if (best is null || r.Priority > best.Priority || (r.Priority == best.Priority && r.Types is not null && best.Types is null))
                best = r;
        }
        if (best is null)
        {
            var versions = string.Join(", ", list.Select(r => r.EndVersion == int.MaxValue ? $"{r.SinceVersion}+" : $"{r.SinceVersion}-{r.EndVersion}").Distinct());
            throw new UnsupportedException($"node {node.DisplayName}: {node.OpType} at opset {info.Opset} with input type {info.InputDataType(0).Name()} is not supported (Loom has opsets {versions})");
        }
        return best.Factory;
    }

    /// <summary>All kernels Loom ships: those of every class marked <see cref="KernelRegistrationsAttribute"/> (<see cref="KernelCatalog"/>).</summary>
    public static KernelRegistry Default { get; } = Discover();

    private static KernelRegistry Discover()
    {
        var registry = new KernelRegistry();
        foreach (var register in KernelCatalog.All) register(registry);
        return registry;
    }
}
