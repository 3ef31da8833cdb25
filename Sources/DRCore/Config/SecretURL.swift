import Foundation

/// A URL that is a secret (chat webhooks carry their token in the path): written in the config,
/// or, better, read from an environment variable or a file (a mounted Secret) when it is used.
/// Its value is never printed; its name says where it came from.
public enum SecretURL: Sendable, Equatable {
    case url(String)
    case environment(String)
    case file(String)

    /// What to call it in messages, e.g. `notify.discord (from $DISCORD_URL)`.
    public func name(_ key: String) -> String {
        switch self {
        case .url: "\(key).url"
        case .environment(let variable): "\(key) (from $\(variable))"
        case .file(let path): "\(key) (from \(path))"
        }
    }

    /// The URL, or why there is none, in words that never contain it.
    public func resolve(environment: [String: String]) -> Result<String, SecretURLProblem> {
        let text: String
        switch self {
        case .url(let url): text = url
        case .environment(let variable):
            guard let value = environment[variable], !value.isEmpty else { return .failure(SecretURLProblem("the environment variable is not set")) }
            text = value
        case .file(let path):
            let expanded = (path as NSString).expandingTildeInPath
            guard let data = FileManager.default.contents(atPath: expanded) else {
                return .failure(SecretURLProblem("the file cannot be read"))
            }
            text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { return .failure(SecretURLProblem("the file is empty")) }
        }
        if let refusal = EndpointPolicy.cleartextRefusal(text) { return .failure(SecretURLProblem("the URL \(refusal)")) }
        return .success(text)
    }
}

/// Why a ``SecretURL`` gave no URL.
public struct SecretURLProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
