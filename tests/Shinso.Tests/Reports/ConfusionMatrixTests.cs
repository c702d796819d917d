using Shinso.Backends;
using Shinso.Cli.Reports;
using Shinso.Training;

namespace Shinso.Tests.Reports;

/// <summary>The matrix's orientation on computed predictions: rows are the true classes, columns the predicted ones.</summary>
public class ConfusionMatrixTests
{
    [Fact]
    public void Rows_are_true_classes_and_columns_the_largest_score_over_batches_of_any_size()
    {
        using var backend = new CpuBackend();
        // 1,203 rows (three batches of 500, the last partial), labels cycling 0, 1, 2; the one input is the row's index.
        const int rows = 1_203;
        var inputs = new float[rows];
        var labels = new int[rows];
        var targets = new float[rows * 3];
        for (int r = 0; r < rows; r++)
        {
            inputs[r] = r;
            labels[r] = r % 3;
            targets[r * 3 + labels[r]] = 1f;
        }
        var data = new SupervisedData(inputs, 1, targets, 3, labels);
        // The scorer predicts class 2 for even rows and class 0 for odd ones, whatever the truth.
        var scores = backend.Allocate(500, 3);
        Shinso.Tensors.Tensor Scores(Shinso.Tensors.Tensor x)
        {
            var host = new float[x.Rows];
            backend.Download(x, host);
            var s = new float[x.Rows * 3];
            for (int r = 0; r < x.Rows; r++) s[r * 3 + ((int)host[r] % 2 == 0 ? 2 : 0)] = 1f;
            var view = scores.SliceRows(0, x.Rows);
            backend.Upload(s, view);
            return view;
        }

        var matrix = ConfusionMatrix.Of(backend, Scores, data, ["a", "b", "c"]);
        int Expected(int truth, int predicted) =>
            Enumerable.Range(0, rows).Count(r => r % 3 == truth && (r % 2 == 0 ? 2 : 0) == predicted);
        for (int truth = 0; truth < 3; truth++)
            for (int predicted = 0; predicted < 3; predicted++)
                Assert.Equal(Expected(truth, predicted), matrix[truth, predicted]);
        // Each row sums to its class's count; no row was predicted "b".
        Assert.Equal([401, 401, 401], Enumerable.Range(0, 3).Select(t => matrix[t, 0] + matrix[t, 1] + matrix[t, 2]));
        Assert.All(Enumerable.Range(0, 3), t => Assert.Equal(0, matrix[t, 1]));
    }

    [Fact]
    public void A_nets_matrix_comes_from_the_evaluation_pass_and_agrees_with_its_accuracy_and_its_own_predictions()
    {
        using var backend = new CpuBackend();
        var spec = new Shinso.Models.FeedForward.FeedForwardSpec([4], [Shinso.Models.FeedForward.LayerSpec.Dense(3, Shinso.Layers.WeightInit.SmallGaussian, 1f)], "softmax-cross-entropy");
        var net = new Shinso.Models.FeedForward.FeedForwardNet(backend, spec, seed: 5);
        var random = new System.Random(2);
        const int rows = 777;
        var inputs = new float[rows * 4];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)random.NextDouble();
        var labels = new int[rows];
        var targets = new float[rows * 3];
        for (int r = 0; r < rows; r++) targets[r * 3 + (labels[r] = random.Next(3))] = 1f;
        var data = new SupervisedData(inputs, 4, targets, 3, labels);

        var counts = new int[9];
        var evaluation = Trainer.Evaluate(net, data, batchSize: 100, confusion: counts);
        var fromScores = ConfusionMatrix.Of(backend, net.Predict, data, ["a", "b", "c"]);
        Assert.Equal(fromScores.Counts, counts);
        Assert.Equal(fromScores.Counts, ConfusionMatrix.Of(net, data, ["a", "b", "c"]).Counts);
        Assert.Equal(evaluation.Accuracy!.Value, (counts[0] + counts[4] + counts[8]) / (double)rows, 12);
        Assert.Throws<ArgumentException>(() => Trainer.Evaluate(net, data, confusion: new int[4]));
    }
}
