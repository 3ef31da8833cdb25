import Foundation
import Yams

/// Turns configuration text into checked values, reporting every problem at once.
///
/// Pure: the caller reads the file; `file` is only used in messages.
public enum ConfigLoader {
    /// Loads a config of the kind its `kind:` field names (or `expected`, when given).
    /// A Kubernetes ConfigMap manifest is accepted too: its `restore.yaml` key is loaded.
    /// - Throws: `ConfigError` listing every problem found.
    public static func load(_ text: String, file: String, expected: ConfigKind? = nil) throws(ConfigError) -> LoadedConfig {
        var reader = ConfigReader()
        guard var root = reader.compose(text) else { throw ConfigError(file: file, issues: reader.issues) }
        var pathPrefix = ""

        // A ConfigMap from the cluster's git tree: validate the embedded document, with line
        // numbers that point into the outer file.
        if let top = ConfigMapping(root, at: "", reader: ConfigReader()), top.string("kind") == "ConfigMap" {
            let key = RestoreConfig.Defaults.configMapKey
            guard let data = top.mapping("data"), let embedded = data.value(key),
                case .scalar(let scalar) = embedded
            else {
                throw ConfigError(
                    file: file,
                    issues: [
                        ConfigIssue(
                            path: "data.\(key)", line: root.mark?.line,
                            message: "a ConfigMap given as a restore config must hold the config as a string under data.\"\(key)\"",
                            hint: "see examples/restore-configmap.yaml")
                    ])
            }
            // Block scalars (`|`) start on the line after the key.
            reader = ConfigReader(lineOffset: (embedded.mark?.line ?? 0))
            pathPrefix = "data.\(key): "
            guard let inner = reader.compose(scalar.string) else {
                throw ConfigError(file: file, issues: prefixed(reader.issues, pathPrefix))
            }
            root = inner
        }

        guard let top = ConfigMapping(root, at: "", reader: reader) else {
            throw ConfigError(file: file, issues: prefixed(reader.issues, pathPrefix))
        }
        let kind = detectKind(top, expected: expected)
        let result: LoadedConfig?
        switch kind {
        case .exercise: result = ExerciseConfigParser(reader: reader).parse(top).map(LoadedConfig.exercise)
        case .restore: result = RestoreConfigParser(reader: reader).parse(top).map(LoadedConfig.restore)
        case nil: result = nil
        }
        let issues = reader.issues.sorted { ($0.line ?? 0) < ($1.line ?? 0) }
        guard issues.isEmpty, let result else { throw ConfigError(file: file, issues: prefixed(issues, pathPrefix)) }
        return result
    }

    /// Loads an exercise config; a restore config here is an error.
    public static func loadExercise(_ text: String, file: String) throws(ConfigError) -> ExerciseConfig {
        guard case .exercise(let config) = try load(text, file: file, expected: .exercise) else {
            throw ConfigError(file: file, issues: [ConfigIssue(path: "kind", message: "expected an ExerciseConfig")])
        }
        return config
    }

    /// Loads a restore config (plain or inside a ConfigMap manifest).
    public static func loadRestore(_ text: String, file: String) throws(ConfigError) -> RestoreConfig {
        guard case .restore(let config) = try load(text, file: file, expected: .restore) else {
            throw ConfigError(file: file, issues: [ConfigIssue(path: "kind", message: "expected a RestoreConfig")])
        }
        return config
    }

    private static func prefixed(_ issues: [ConfigIssue], _ prefix: String) -> [ConfigIssue] {
        guard !prefix.isEmpty else { return issues }
        return issues.map {
            var issue = $0
            issue.path = prefix + issue.path
            return issue
        }
    }

    /// Reads `apiVersion`/`kind`, or guesses from the top-level keys when `kind` is absent.
    private static func detectKind(_ top: ConfigMapping, expected: ConfigKind?) -> ConfigKind? {
        if let version = top.string("apiVersion"), version != ConfigKind.apiVersion {
            top.reader.report(
                "apiVersion", at: top.value("apiVersion"),
                "expected \(ConfigKind.apiVersion), found \"\(version)\"")
        }
        if let written = top.string("kind") {
            guard let kind = ConfigKind.allCases.first(where: { $0.documentKind == written }) else {
                let names = ConfigKind.allCases.map(\.documentKind)
                top.reader.report(
                    "kind", at: top.value("kind"),
                    "expected one of \(names.joined(separator: ", ")), found \"\(written)\"",
                    hint: EditDistance.suggestion(for: written, among: names).map { "did you mean '\($0)'?" })
                return nil
            }
            if let expected, expected != kind {
                top.reader.report(
                    "kind", at: top.value("kind"),
                    "this file is a \(kind.documentKind), but a \(expected.documentKind) was asked for",
                    hint: "pass the other file, or drop --kind")
                return nil
            }
            return kind
        }
        if let expected { return expected }
        if top.has("volumes") { return .restore }
        if top.has("cluster") || top.has("workload") { return .exercise }
        top.reader.report(
            "kind", at: top.node, "cannot tell which kind of config this is",
            hint: "add `kind: ExerciseConfig` or `kind: RestoreConfig`, or pass --kind")
        return nil
    }
}
