import Foundation

/// A command line as it may be shown in logs, errors, the journal and reports: the program and
/// its arguments with anything that looks like a secret replaced by `***`. Commands in an
/// exercise config often carry tokens (`--token`, `VAULT_TOKEN=…`, a URL with a password).
public enum CommandText {
    static let secretWords = ["token", "secret", "password", "passwd", "pass", "key", "credential", "auth", "cookie", "session"]

    public static func redacted(_ argv: [String]) -> String {
        var shown: [String] = []
        var hideNext = false
        for (index, argument) in argv.enumerated() {
            if index == 0 {
                shown.append(argument)
                continue
            }
            if hideNext {
                shown.append("***")
                hideNext = false
                continue
            }
            shown.append(redact(argument, hideNext: &hideNext))
        }
        return shown.joined(separator: " ")
    }

    static func redact(_ argument: String, hideNext: inout Bool) -> String {
        if argument.hasPrefix("-") {
            let flag = argument.drop { $0 == "-" }
            if let equals = flag.firstIndex(of: "=") {
                let name = flag[..<equals]
                return isSecretName(name) ? "\(argument.prefix(argument.count - flag.count))\(name)=***" : argument
            }
            if isSecretName(flag) { hideNext = true }
            return argument
        }
        if let equals = argument.firstIndex(of: "="), !argument.contains("://") {
            let name = argument[..<equals]
            if isSecretName(name) { return "\(name)=***" }
        }
        if let url = URLComponents(string: argument), url.scheme != nil, url.password != nil || url.user != nil {
            var safe = url
            safe.user = safe.user.map { _ in "***" }
            safe.password = safe.password.map { _ in "***" }
            return safe.string ?? "***"
        }
        // A long opaque word (not a path) is most likely a token.
        let opaque = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "+=_-."))
        if argument.count >= 32, argument.unicodeScalars.allSatisfy(opaque.contains), argument.contains(where: \.isNumber),
            argument.contains(where: \.isLetter)
        {
            return "***"
        }
        return argument
    }

    static func isSecretName<S: StringProtocol>(_ name: S) -> Bool {
        let lower = name.lowercased()
        return secretWords.contains { lower.contains($0) }
    }
}
