/// The two kinds of configuration file the tool reads.
public enum ConfigKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case exercise
    case restore

    /// The `kind:` value written in the file.
    public var documentKind: String {
        switch self {
        case .exercise: "ExerciseConfig"
        case .restore: "RestoreConfig"
        }
    }

    public var description: String { rawValue }

    /// The `apiVersion:` every config file carries.
    public static let apiVersion = "longhorn-dr/v1"
}

/// A loaded configuration of either kind.
public enum LoadedConfig: Sendable, Equatable {
    case exercise(ExerciseConfig)
    case restore(RestoreConfig)

    public var kind: ConfigKind {
        switch self {
        case .exercise: .exercise
        case .restore: .restore
        }
    }
}
