using Shinso.Data;

namespace Shinso.Tests.Data;

public sealed class DataSourceTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Npz(string name, params (string Name, byte[] Npy)[] arrays)
    {
        string path = _dir.File(name);
        NumpyFiles.Archive(path, arrays);
        return path;
    }

    private static byte[] Bytes(int count, int start = 0)
    {
        var b = new byte[count];
        for (int i = 0; i < count; i++) b[i] = (byte)((start + i * 37) % 256);
        return b;
    }

    [Fact]
    public void An_npz_of_uint8_images_and_int64_labels_reads_as_scaled_samples_of_its_shape()
    {
        var xTrain = Bytes(3 * 4 * 5);
        var xTest = Bytes(2 * 4 * 5, 11);
        string path = Npz("mnist.npz",
            ("x_train", NumpyFiles.Array("|u1", [3, 4, 5], xTrain)), ("y_train", NumpyFiles.Array("<i8", [3], NumpyFiles.Int64s([2, 0, 1]))),
            ("x_test", NumpyFiles.Array("|u1", [2, 4, 5], xTest)), ("y_test", NumpyFiles.Array("<i8", [2], NumpyFiles.Int64s([4, 1]))));

        Assert.Equal(DataFormat.Npz, DataSource.Detect(path));
        var data = DataSource.Load(path);
        Assert.Equal(DataFormat.Npz, data.Format);
        Assert.Equal([4, 5], data.Train.SampleShape);
        Assert.Equal([2, 0, 1], data.Train.Labels);
        Assert.Equal([4, 1], data.Test.Labels);
        Assert.Equal(5, data.Train.ClassCount);   // the largest label of either split + 1
        Assert.Equal(5, data.Test.ClassCount);
        for (int i = 0; i < xTrain.Length; i++) Assert.Equal(xTrain[i] / 255f, data.Train.Features[i]);
        for (int i = 0; i < xTest.Length; i++) Assert.Equal(xTest[i] / 255f, data.Test.Features[i]);
        Assert.Contains("NumPy .npz", data.Description);
        Assert.Contains("uint8 scaled", data.Description);
    }

    [Fact]
    public void Channels_last_float_images_are_transposed_to_channels_first()
    {
        const int h = 6, w = 5, c = 3;
        var values = new float[2 * h * w * c];
        for (int i = 0; i < values.Length; i++) values[i] = i * 0.5f;
        var labels = NumpyFiles.Array("<i8", [2, 1], NumpyFiles.Int64s([1, 0]));
        string path = Npz("cifar.npz",
            ("x_train", NumpyFiles.Array("<f4", [2, h, w, c], NumpyFiles.Floats(values))), ("y_train", labels),
            ("x_test", NumpyFiles.Array("<f4", [2, h, w, c], NumpyFiles.Floats(values))), ("y_test", labels));

        var data = DataSource.Load(path);
        Assert.Equal([c, h, w], data.Train.SampleShape);
        for (int s = 0; s < 2; s++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int k = 0; k < c; k++)
                        Assert.Equal(values[((s * h + y) * w + x) * c + k], data.Train.Features[s * h * w * c + (k * h + y) * w + x]);
        Assert.Contains("transposed to channels-first", data.Description);
    }

    [Fact]
    public void An_npz_without_a_required_array_names_it_and_what_the_archive_holds()
    {
        string path = Npz("partial.npz",
            ("x_train", NumpyFiles.Array("|u1", [1, 2], [1, 2])), ("y_train", NumpyFiles.Array("|u1", [1], [0])),
            ("x_test", NumpyFiles.Array("|u1", [1, 2], [1, 2])));
        var e = Assert.ThrowsAny<DataFormatException>(() => DataSource.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Equal("y_test", e.Field);
        Assert.Contains("x_test, x_train, y_train", e.Message);
    }

    [Theory]
    [InlineData("fortran", "x_train: fortran_order")]
    [InlineData("big-endian", "x_train: descr")]
    [InlineData("truncated", "x_train: payload")]
    [InlineData("complex", "x_train: descr")]
    [InlineData("float-labels", "y_train: descr")]
    [InlineData("label-count", "y_train: shape")]
    [InlineData("test-shape", "x_test: shape")]
    public void A_malformed_npz_array_is_an_error_naming_the_array_and_field(string flaw, string field)
    {
        var x = NumpyFiles.Array("<f4", [2, 3], NumpyFiles.Floats([1, 2, 3, 4, 5, 6]));
        var y = NumpyFiles.Array("|u1", [2], [0, 1]);
        var xTest = x;
        switch (flaw)
        {
            case "fortran": x = NumpyFiles.Array("<f4", [2, 3], NumpyFiles.Floats([1, 2, 3, 4, 5, 6]), fortranOrder: true); break;
            case "big-endian": x = NumpyFiles.Array(">f4", [2, 3], new byte[24]); break;
            case "truncated": x = NumpyFiles.Array("<f4", [2, 3], new byte[20]); break;
            case "complex": x = NumpyFiles.Array("<c8", [2, 3], new byte[48]); break;
            case "float-labels": y = NumpyFiles.Array("<f4", [2], NumpyFiles.Floats([0, 1])); break;
            case "label-count": y = NumpyFiles.Array("|u1", [3], [0, 1, 1]); break;
            case "test-shape": xTest = NumpyFiles.Array("<f4", [3, 2], NumpyFiles.Floats([1, 2, 3, 4, 5, 6])); break;
        }
        var yTest = flaw == "test-shape" ? NumpyFiles.Array("|u1", [3], [0, 1, 0]) : NumpyFiles.Array("|u1", [2], [0, 1]);
        string path = Npz(flaw + ".npz", ("x_train", x), ("y_train", y), ("x_test", xTest), ("y_test", yTest));
        var e = Assert.ThrowsAny<DataFormatException>(() => DataSource.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void A_csv_pixel_table_with_a_header_is_scaled_like_the_binary_formats()
    {
        string train = _dir.File("train.csv"), test = _dir.File("test.csv");
        File.WriteAllText(train, "label,p0,p1,p2\n3,0,128,255\n\n1,17,0,4\n");
        File.WriteAllText(test, "2,255,0,1\n");
        Assert.Equal(DataFormat.Csv, DataSource.Detect(train));
        var data = DataSource.Load(train, test);
        Assert.Equal([3, 1], data.Train.Labels);
        Assert.Equal([2], data.Test.Labels);
        Assert.Equal(4, data.Train.ClassCount);
        Assert.Equal([0f, 128 / 255f, 1f, 17 / 255f, 0f, 4 / 255f], data.Train.Features);
        Assert.Equal([3], data.Train.SampleShape);
        Assert.Contains("scaled to [0, 1]", data.Description);
    }

    [Fact]
    public void A_header_that_numbers_the_columns_is_a_header_not_a_sample()
    {
        string train = _dir.File("train.csv"), test = _dir.File("test.csv");
        string numbering = string.Join(",", Enumerable.Range(0, 12)), pixels = string.Join(",", Enumerable.Range(0, 11).Select(i => i * 20));
        File.WriteAllText(train, $"{numbering}\r\n3,{pixels}\r\n1,{pixels}\r\n");
        File.WriteAllText(test, $"{numbering}\n2,{pixels}\n");
        var data = DataSource.Load(train, test);
        Assert.Equal([3, 1], data.Train.Labels);
        Assert.Equal([2], data.Test.Labels);
        Assert.Equal(11, data.Train.FeatureCount);
        Assert.Equal(200 / 255f, data.Train.Features[10]);
    }

    [Fact]
    public void Npz_splits_of_different_element_types_are_refused()
    {
        var y = NumpyFiles.Array("|u1", [1], [0]);
        string path = Npz("mixed.npz",
            ("x_train", NumpyFiles.Array("|u1", [1, 2], [0, 255])), ("y_train", y),
            ("x_test", NumpyFiles.Array("<f4", [1, 2], NumpyFiles.Floats([0, 1]))), ("y_test", y));
        var e = Assert.ThrowsAny<DataFormatException>(() => DataSource.Load(path));
        Assert.Equal("x_test: descr", e.Field);
    }

    [Fact]
    public void A_shape_too_large_for_one_array_is_refused_before_allocating()
    {
        string path = Npz("huge.npz", ("x_train", NumpyFiles.Array("<f4", [65536, 65536, 65536], [])));
        var e = Assert.ThrowsAny<DataFormatException>(() => NumpyArchive.ReadArchive(path));
        Assert.Equal("x_train: shape", e.Field);
    }

    [Fact]
    public void A_csv_of_real_features_is_read_as_written()
    {
        string train = _dir.File("train.csv"), test = _dir.File("test.csv");
        File.WriteAllText(train, "0,0.25,-3.5e1\n1,2,7\n");
        File.WriteAllText(test, "1,1.5,0\n");
        var data = DataSource.Load(train, test);
        Assert.Equal([0.25f, -35f, 2f, 7f], data.Train.Features);
        Assert.DoesNotContain("scaled", data.Description);
    }

    [Theory]
    [InlineData("0,1,2\n1,x,3\n", "line 2, column 2")]
    [InlineData("0,1,2\n1,2\n", "line 2")]
    [InlineData("0,1,2\n-1,2,3\n", "line 2, column 1 (label)")]
    [InlineData("0,1,2\n0.5,2,3\n", "line 2, column 1 (label)")]
    [InlineData("label,a,b\n", "rows")]
    [InlineData("0,1,2\n70000,2,3\n", "line 2, column 1 (label)")]
    public void A_malformed_csv_names_the_line_and_column(string text, string field)
    {
        string train = _dir.File("bad.csv"), test = _dir.File("test.csv");
        File.WriteAllText(train, text);
        File.WriteAllText(test, "0,1,2\n");
        var e = Assert.ThrowsAny<DataFormatException>(() => DataSource.Load(train, test));
        Assert.Equal(train, e.FilePath);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void A_csv_needs_its_test_split_and_other_formats_refuse_one()
    {
        string train = _dir.File("train.csv");
        File.WriteAllText(train, "0,1\n");
        var e = Assert.Throws<ArgumentException>(() => DataSource.Load(train));
        Assert.Contains("--test-data", e.Message);
        e = Assert.Throws<ArgumentException>(() => DataSource.Load(TestData.EmbeddedSubset, train));
        Assert.Contains("IDX folder", e.Message);
    }

    [Fact]
    public void Folders_are_told_apart_by_their_files()
    {
        Assert.Equal(DataFormat.Idx, DataSource.Detect(TestData.EmbeddedSubset));
        string cifar = Directory.CreateDirectory(_dir.File("cifar")).FullName;
        var record = new byte[Cifar10.RecordLength];
        record[0] = 7;
        record[1] = 255;
        foreach (var name in Cifar10.TrainFiles.Append(Cifar10.TestFile)) File.WriteAllBytes(Path.Combine(cifar, name), record);
        Assert.Equal(DataFormat.Cifar10, DataSource.Detect(cifar));
        var data = DataSource.Load(cifar);
        Assert.Equal(5, data.Train.Count);
        Assert.Equal([3, 32, 32], data.Train.SampleShape);
        Assert.Equal(7, data.Test.Labels[0]);
        Assert.Equal(1f, data.Test.Features[0]);

        string empty = Directory.CreateDirectory(_dir.File("empty")).FullName;
        var e = Assert.ThrowsAny<DataFormatException>(() => DataSource.Detect(empty));
        Assert.Equal("folder", e.Field);
    }

    [Fact]
    public void Files_that_hold_no_labelled_set_are_named_for_what_they_are()
    {
        string npy = _dir.File("x.npy");
        File.WriteAllBytes(npy, NumpyFiles.Array("|u1", [2], [1, 2]));
        Assert.Contains("single .npy", Assert.ThrowsAny<DataFormatException>(() => DataSource.Detect(npy)).Message);
        string gz = _dir.File("images.gz");
        File.WriteAllBytes(gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
        Assert.Contains("gzip", Assert.ThrowsAny<DataFormatException>(() => DataSource.Detect(gz)).Message);
        Assert.Throws<FileNotFoundException>(() => DataSource.Detect(_dir.File("missing.csv")));
    }
}
