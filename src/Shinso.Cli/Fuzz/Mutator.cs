using System.Text;
using Shinso.Random;

namespace Shinso.Cli.Fuzz;

/// <summary>
/// Mutates a valid file's bytes the ways damaged and hostile files differ from good ones: flipped bits, random bytes,
/// truncation, insertions, deletions, repeated chunks, extreme 32-bit integers, huge or negative numbers in text, and
/// deeply nested JSON. One to three mutations per case, drawn from a Philox stream addressed by the case's index, so a
/// case replays from (seed, index) alone.
/// </summary>
internal sealed class Mutator(RandomStream stream)
{
    private static readonly int[] Extremes = [int.MaxValue, int.MinValue, -1, 0, 1 << 30, 65536];
    private static readonly string[] Numbers = ["99999999999999999999", "-1", "1e39", "NaN", "2147483648", "-2147483649", "0x7fffffff", "1.5", "", "0"];

    private ulong _position;

    /// <summary>The names of the mutations, in the order of their codes.</summary>
    public static IReadOnlyList<string> Kinds { get; } =
        ["bit-flip", "random-byte", "truncate", "insert", "delete", "repeat-chunk", "extreme-int32", "text-number", "nested-json"];

    /// <summary>
    /// Mutates <paramref name="original"/> for case <paramref name="index"/>; <paramref name="applied"/> names the mutations
    /// that changed something (one that could not apply, such as a number swap in a file without digits, is redrawn).
    /// </summary>
    public byte[] Mutate(byte[] original, long index, out string applied)
    {
        _position = (ulong)index << 20;
        var bytes = new List<byte>(original);
        int count = 1 + Next(3);
        var names = new List<string>();
        for (int attempts = 0; names.Count < count && attempts < 32; attempts++)
        {
            int kind = Next(Kinds.Count);
            if (Apply(kind, bytes)) names.Add(Kinds[kind]);
        }
        applied = string.Join("+", names);
        return [.. bytes];
    }

    /// <summary>Applies mutation <paramref name="kind"/>; false when it could not change anything.</summary>
    private bool Apply(int kind, List<byte> bytes)
    {
        int n = bytes.Count;
        switch (kind)
        {
            case 0 when n > 0: { int i = Next(n); bytes[i] ^= (byte)(1 << Next(8)); return true; }
            case 1 when n > 0:
            {
                int i = Next(n);
                byte value = (byte)(bytes[i] + 1 + Next(255));
                bytes[i] = value;
                return true;
            }
            case 2 when n > 0: { int keep = Next(n); bytes.RemoveRange(keep, n - keep); return true; }
            case 3: { int at = Next(n + 1), len = 1 + Next(16); var add = new byte[len]; for (int i = 0; i < len; i++) add[i] = (byte)Next(256); bytes.InsertRange(at, add); return true; }
            case 4 when n > 0: { int at = Next(n), len = Math.Min(n - at, 1 + Next(32)); bytes.RemoveRange(at, len); return true; }
            case 5 when n > 0: { int at = Next(n), len = Math.Min(n - at, 1 + Next(64)); bytes.InsertRange(Next(n + 1), bytes.GetRange(at, len)); return true; }
            case 6 when n >= 4:
            {
                // Half the time at a 4-byte boundary near the start, where binary headers keep their counts and sizes.
                int at = Next(2) == 0 ? 4 * Next(Math.Min(n / 4, 16)) : Next(n - 3), value = Extremes[Next(Extremes.Length)];
                bool big = Next(2) == 0;
                for (int k = 0; k < 4; k++) bytes[at + k] = (byte)(value >> (8 * (big ? 3 - k : k)));
                return true;
            }
            case 7:
            {
                // Replace a run of digits (as headers and text cells hold them) with a hostile number.
                int start = -1;
                for (int tries = 0; tries < 8 && start < 0 && n > 0; tries++)
                {
                    int at = Next(n);
                    for (int i = at; i < n; i++) if (bytes[i] is >= (byte)'0' and <= (byte)'9') { start = i; break; }
                }
                if (start < 0) return false;
                int end = start;
                while (end < n && bytes[end] is >= (byte)'0' and <= (byte)'9') end++;
                bytes.RemoveRange(start, end - start);
                bytes.InsertRange(start, Encoding.ASCII.GetBytes(Numbers[Next(Numbers.Length)]));
                return true;
            }
            case 8:
            {
                // Depths spread over 1 to 2^17 on a log scale, so the parsers' limits (64 levels) are met as often as deep ones.
                int depth = Math.Max(1, (1 << Next(18)) + Next(3) - 1);
                var nested = Encoding.ASCII.GetBytes(new string('[', depth) + new string(']', depth));
                bytes.InsertRange(Next(n + 1), nested);
                return true;
            }
            default:
                return false;
        }
    }

    private int Next(int bound) => bound <= 1 ? 0 : (int)(Philox4x32.Word(stream, _position++) % (uint)bound);
}
