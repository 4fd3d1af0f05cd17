using Google.Protobuf;
using Loom.Import.Onnx.Proto;

namespace Loom.Import.Onnx;

/// <summary>
/// Expands a call of a model-local function (<c>ModelProto.functions</c>) into the function's body:
/// formal inputs and outputs are renamed to the call's values, body-internal values get names unique
/// to the call, and attribute references (<c>ref_attr_name</c>) take the caller's attribute or the
/// function's default.
/// </summary>
internal static class FunctionInliner
{
    private static int _calls;

    public delegate void Expander(NodeProto n, ImportContext ctx, HashSet<string> scope, List<IR.Node> into, int depth);

    public static void Inline(NodeProto call, FunctionProto f, ImportContext ctx, HashSet<string> scope, List<IR.Node> into, int depth, Expander expand)
    {
        int id = Interlocked.Increment(ref _calls);
        var rename = new Dictionary<string, string>();
        for (int i = 0; i < f.Input.Count; i++) rename[f.Input[i]] = i < call.Input.Count ? call.Input[i] : "";
        for (int i = 0; i < f.Output.Count; i++) rename[f.Output[i]] = i < call.Output.Count ? call.Output[i] : "";
        string Map(string name)
        {
            if (name.Length == 0) return name;
            if (rename.TryGetValue(name, out var r)) return r;
            r = $"{f.Name}__{id}__{name}";
            rename[name] = r;
            return r;
        }

        var callAttrs = call.Attribute.ToDictionary(a => a.Name);
        var defaults = f.AttributeProto.ToDictionary(a => a.Name);
        foreach (var bodyNode in f.Node)
        {
            var n = bodyNode.Clone();
            n.Input.Clear(); n.Input.AddRange(bodyNode.Input.Select(Map));
            n.Output.Clear(); n.Output.AddRange(bodyNode.Output.Select(Map));
            n.Attribute.Clear();
            foreach (var a in bodyNode.Attribute)
            {
                if (string.IsNullOrEmpty(a.RefAttrName)) { n.Attribute.Add(RenameInSubgraphs(a, Map)); continue; }
                var source = callAttrs.GetValueOrDefault(a.RefAttrName) ?? defaults.GetValueOrDefault(a.RefAttrName);
                if (source is null) continue; // unset optional attribute: the operator's own default applies
                var copy = source.Clone();
                copy.Name = a.Name;
                n.Attribute.Add(copy);
            }
            expand(n, ctx, scope, into, depth + 1);
        }
    }

    /// <summary>Subgraphs in a function body may capture body values by name; rename those captures too.</summary>
    private static AttributeProto RenameInSubgraphs(AttributeProto a, Func<string, string> map)
    {
        if (a.G is null && a.Graphs.Count == 0) return a;
        var copy = a.Clone();
        if (copy.G is not null) RenameCaptures(copy.G, map);
        foreach (var g in copy.Graphs) RenameCaptures(g, map);
        return copy;
    }

    private static void RenameCaptures(GraphProto g, Func<string, string> map)
    {
        var local = new HashSet<string>(g.Input.Select(i => i.Name).Concat(g.Initializer.Select(i => i.Name)).Concat(g.Node.SelectMany(n => n.Output)));
        foreach (var n in g.Node)
        {
            for (int i = 0; i < n.Input.Count; i++)
                if (n.Input[i].Length > 0 && !local.Contains(n.Input[i])) n.Input[i] = map(n.Input[i]);
            foreach (var a in n.Attribute)
            {
                if (a.G is not null) RenameCaptures(a.G, map);
                foreach (var sg in a.Graphs) RenameCaptures(sg, map);
            }
        }
        foreach (var o in g.Output)
            if (!local.Contains(o.Name)) o.Name = map(o.Name);
    }
}
