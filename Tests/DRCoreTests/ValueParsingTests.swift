import DRCore
import Testing

@Suite struct ValueParsingTests {
    @Test(
        arguments: [
            ("90s", 90_000), ("10m", 600_000), ("1h30m", 5_400_000), ("500ms", 500), ("1.5m", 90_000), ("2d", 172_800_000),
        ] as [(String, Int64)])
    func durations(text: String, millis: Int64) {
        #expect(DurationText.parse(text)?.milliseconds == millis)
    }

    @Test(arguments: ["", "90", "m", "10x", "-5s", "1h-3m", "ten minutes"])
    func badDurations(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func durationFormatting() {
        #expect(DurationText.format(.seconds(5400)) == "1h30m")
        #expect(DurationText.format(.milliseconds(250)) == "250ms")
        #expect(DurationText.format(.zero) == "0s")
    }

    @Test(
        arguments: [
            ("1Gi", 1_073_741_824), ("512Mi", 536_870_912), ("2G", 2_000_000_000), ("1073741824", 1_073_741_824),
            ("1.5Gi", 1_610_612_736), ("64Ki", 65_536),
        ] as [(String, Int64)])
    func quantities(text: String, bytes: Int64) {
        #expect(ByteQuantity(parsing: text)?.bytes == bytes)
    }

    @Test(arguments: ["", "Gi", "1GB", "-1Gi", "0.3", "1e3x", "one"])
    func badQuantities(text: String) {
        #expect(ByteQuantity(parsing: text) == nil)
    }

    @Test func quantityDescription() {
        #expect(ByteQuantity(bytes: 1 << 30).description == "1Gi")
        #expect(ByteQuantity(bytes: 1000).description == "1000")
    }

    @Test func names() {
        #expect(KubernetesName.labelProblem("dr-exercise-data") == nil)
        #expect(KubernetesName.labelProblem("Bad_Name") != nil)
        #expect(KubernetesName.labelProblem("-edge") != nil)
        #expect(KubernetesName.labelProblem(String(repeating: "a", count: 41), maxLength: 40) != nil)
        #expect(KubernetesName.subdomainProblem("a.b-c") == nil)
        #expect(KubernetesName.subdomainProblem("a..b") != nil)
    }

    @Test func exitCodesAreTheDocumentedTable() {
        #expect(ExitStatus.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
    }
}
