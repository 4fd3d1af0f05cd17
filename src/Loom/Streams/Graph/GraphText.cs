using System.Text;

namespace Loom.Streams.Graph;

/// <summary>The stream graph as indented text (one line per stream, with types and rates) and as Graphviz dot.</summary>
public static class GraphText
{
    public static string Text(StreamNode top)
    {
        var sb = new StringBuilder();
        Write(top, 0, sb);
        return sb.ToString();
    }

    private static string Types(StreamNode n) => $"{n.Input}->{n.Output}";

    private static void Write(StreamNode n, int depth, StringBuilder sb)
    {
        var pad = new string(' ', depth * 2);
        switch (n)
        {
            case FilterNode f:
                sb.Append(pad).Append($"filter {f.Name} : {Types(f)}  pop {f.Pop} peek {f.Peek} push {f.Push}");
                if (f.HasPrework) sb.Append($"  prework pop {f.PrePop} peek {f.PrePeek} push {f.PrePush}");
                sb.Append(f.IsStateful ? "  stateful" : "  stateless").AppendLine();
                break;
            case ModelStageNode m:
                sb.Append(pad).AppendLine($"filter {m.Name} : {Types(m)}  pop {m.ItemsPerFiring} peek {m.ItemsPerFiring} push {m.ItemsPerFiring}  {(m.IsStateful ? "stateful" : "stateless")}  {m.Describe()}");
                break;
            case PipelineNode p:
                sb.Append(pad).AppendLine($"pipeline {p.Name} : {Types(p)}");
                foreach (var c in p.Children) Write(c, depth + 1, sb);
                break;
            case SplitJoinNode sj:
                sb.Append(pad).AppendLine($"splitjoin {sj.Name} : {Types(sj)}  split {sj.Split}  join {sj.Join}");
                foreach (var c in sj.Branches) Write(c, depth + 1, sb);
                break;
            case FeedbackLoopNode fb:
                sb.Append(pad).AppendLine($"feedbackloop {fb.Name} : {Types(fb)}  join {fb.Join}  split {fb.Split}  enqueued {fb.Enqueued.Count}");
                sb.Append(pad).AppendLine("  body:");
                Write(fb.Body!, depth + 2, sb);
                sb.Append(pad).AppendLine("  loop:");
                Write(fb.Loop!, depth + 2, sb);
                break;
        }
    }

    public static string Dot(StreamNode top)
    {
        var sb = new StringBuilder("digraph streams {\n  node [shape=box, fontname=\"Helvetica\"];\n");
        int id = 0;
        Emit(top, sb, ref id, "  ");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string Q(string s) => "\"" + s.Replace("\"", "\\\"") + "\"";

    /// <summary>Writes a node's clusters and edges; returns its first and last dot node ids (null for void ends).</summary>
    private static (string? In, string? Out) Emit(StreamNode n, StringBuilder sb, ref int id, string pad)
    {
        switch (n)
        {
            case FilterNode f:
            {
                var me = $"n{id++}";
                sb.AppendLine($"{pad}{me} [label={Q($"{f.Name}\\npop {f.Pop} peek {f.Peek} push {f.Push}")}{(f.IsStateful ? ", style=filled, fillcolor=\"#f4cccc\"" : "")}];");
                return (f.Input.Name == "void" ? null : me, f.Output.Name == "void" ? null : me);
            }
            case ModelStageNode m:
            {
                var me = $"n{id++}";
                sb.AppendLine($"{pad}{me} [label={Q($"{m.Name}\\nnodes {m.First}..{m.End - 1}\\n{m.PredictedSeconds * 1e3:F2} ms")}{(m.IsStateful ? ", style=filled, fillcolor=\"#f4cccc\"" : "")}];");
                return (me, me);
            }
            case PipelineNode p:
            {
                sb.AppendLine($"{pad}subgraph cluster_{id++} {{ label={Q(p.Name)};");
                string? first = null, prev = null;
                bool firstSet = false;
                foreach (var c in p.Children)
                {
                    var (i, o) = Emit(c, sb, ref id, pad + "  ");
                    if (!firstSet) { first = i; firstSet = true; }
                    if (prev is not null && i is not null) sb.AppendLine($"{pad}  {prev} -> {i};");
                    prev = o;
                }
                sb.AppendLine($"{pad}}}");
                return (first, prev);
            }
            case SplitJoinNode sj:
            {
                sb.AppendLine($"{pad}subgraph cluster_{id++} {{ label={Q(sj.Name)};");
                string s = $"n{id++}", j = $"n{id++}";
                sb.AppendLine($"{pad}  {s} [label={Q("split " + sj.Split)}, shape=triangle];");
                sb.AppendLine($"{pad}  {j} [label={Q("join " + sj.Join)}, shape=invtriangle];");
                foreach (var c in sj.Branches)
                {
                    var (i, o) = Emit(c, sb, ref id, pad + "  ");
                    if (i is not null) sb.AppendLine($"{pad}  {s} -> {i};");
                    if (o is not null) sb.AppendLine($"{pad}  {o} -> {j};");
                }
                sb.AppendLine($"{pad}}}");
                return (s, j);
            }
            case FeedbackLoopNode fb:
            {
                sb.AppendLine($"{pad}subgraph cluster_{id++} {{ label={Q(fb.Name)};");
                string j = $"n{id++}", s = $"n{id++}";
                sb.AppendLine($"{pad}  {j} [label={Q("join " + fb.Join)}, shape=invtriangle];");
                sb.AppendLine($"{pad}  {s} [label={Q("split " + fb.Split)}, shape=triangle];");
                var (bi, bo) = Emit(fb.Body!, sb, ref id, pad + "  ");
                var (li, lo) = Emit(fb.Loop!, sb, ref id, pad + "  ");
                if (bi is not null) sb.AppendLine($"{pad}  {j} -> {bi};");
                if (bo is not null) sb.AppendLine($"{pad}  {bo} -> {s};");
                if (li is not null) sb.AppendLine($"{pad}  {s} -> {li};");
                if (lo is not null) sb.AppendLine($"{pad}  {lo} -> {j} [label={Q($"{fb.Enqueued.Count} enqueued")}, style=dashed];");
                sb.AppendLine($"{pad}}}");
                return (j, s);
            }
        }
        return (null, null);
    }
}
