import DRCore
import Testing

/// A volume's `maxAge`: the recovery point `assure` holds it to.
@Suite struct RestoreMaxAgeTests {
    static func config(_ volumeExtra: String) -> String {
        """
        kind: RestoreConfig
        volumes:
          - {name: photos, pvc: {namespace: media, name: photos}, size: 1Gi\(volumeExtra)}
        """
    }

    @Test func maxAgeIsReadWrittenBackAndOptional() throws {
        let config = try ConfigLoader.loadRestore(Self.config(", maxAge: 26h"), file: "r.yaml")
        #expect(config.volumes[0].maxAge == .seconds(26 * 3600))
        #expect(try ConfigLoader.loadRestore(config.yamlText(), file: "rendered.yaml") == config)
        #expect(try ConfigLoader.loadRestore(Self.config(""), file: "r.yaml").volumes[0].maxAge == nil)
    }

    @Test(arguments: [", maxAge: 26", ", maxAge: 0s", ", maxAge: soon"])
    func aMaxAgeThatIsNotAPositiveDurationIsRefusedWithItsPath(extra: String) {
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.loadRestore(Self.config(extra), file: "r.yaml") }
        #expect(error?.description.contains("volumes[0].maxAge") == true, "\(error?.description ?? "")")
    }
}
