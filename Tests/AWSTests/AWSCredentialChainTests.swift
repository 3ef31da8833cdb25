import Foundation
import Testing

@testable import AWS

@Suite("AWSCredentialChain")
struct AWSCredentialChainTests {
    static let home = "/home/op"
    static let credentialsPath = "/home/op/.aws/credentials"
    static let configPath = "/home/op/.aws/config"

    static let credentialsFile = """
        # comments and odd spacing are normal here
        [default]
        aws_access_key_id = AKIADEFAULTFILE
        aws_secret_access_key = defaultFileSecret

        [prod]
        AWS_ACCESS_KEY_ID=AKIAPRODFILE
        aws_secret_access_key   =   prodFileSecret
        aws_session_token = prodToken
        ; another comment
        [half]
        aws_access_key_id = AKIAHALF
        """

    static let configFile = """
        [default]
        region = eu-central-1

        [profile staging]
        region = us-west-2
        aws_access_key_id = AKIASTAGINGCONFIG
        aws_secret_access_key = stagingConfigSecret
        s3 =
          addressing_style = path
          aws_access_key_id = NESTED_MUST_BE_IGNORED

        [profile sso]
        sso_session = corp
        sso_account_id = 123456789012
        region = ap-southeast-2
        """

    func chain(
        _ variables: [String: String] = [:],
        files: [String: String]? = nil,
        profile: String? = nil,
        sources: [AWSCredentialChain.Source] = [.environment, .sharedFiles]
    ) -> AWSCredentialChain {
        var env = ["HOME": Self.home]
        env.merge(variables) { _, new in new }
        let files = files ?? [Self.credentialsPath: Self.credentialsFile, Self.configPath: Self.configFile]
        return AWSCredentialChain(environment: .inMemory(variables: env, files: files), profile: profile, sources: sources)
    }

    // MARK: - Environment

    @Test("environment keys win over the files, and carry the session token")
    func environmentFirst() throws {
        let credentials = try chain([
            "AWS_ACCESS_KEY_ID": "AKIAENV",
            "AWS_SECRET_ACCESS_KEY": "envSecret",
            "AWS_SESSION_TOKEN": "envToken",
        ]).resolveCredentials()
        #expect(credentials == AWSCredentials(accessKeyID: "AKIAENV", secretAccessKey: "envSecret", sessionToken: "envToken", source: "environment"))
    }

    @Test("AWS_PROFILE picks the file profile but does not outrank environment keys")
    func awsProfileDoesNotBeatEnvironment() throws {
        let env = ["AWS_PROFILE": "prod", "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envSecret"]
        #expect(try chain(env).resolveCredentials().accessKeyID == "AKIAENV")
        let fromFile = try chain(["AWS_PROFILE": "prod"]).resolveCredentials()
        #expect(fromFile.accessKeyID == "AKIAPRODFILE")
        #expect(fromFile.sessionToken == "prodToken")
        #expect(fromFile.source == "profile \"prod\" in /home/op/.aws/credentials")
    }

    @Test("an explicit profile skips the environment keys")
    func explicitProfileSkipsEnvironment() throws {
        let env = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envSecret", "AWS_PROFILE": "prod"]
        let credentials = try chain(env, profile: "default").resolveCredentials()
        #expect(credentials.accessKeyID == "AKIADEFAULTFILE")
    }

    @Test("half a key pair in the environment is an error naming the missing variable")
    func partialEnvironment() {
        let error = #expect(throws: AWSError.self) {
            try chain(["AWS_ACCESS_KEY_ID": "AKIAENV"]).resolveCredentials()
        }
        #expect(error?.code == .incompleteCredentials)
        #expect(error?.description.contains("AWS_SECRET_ACCESS_KEY") == true)
    }

    @Test("blank variables count as unset")
    func blankVariables() throws {
        let credentials = try chain(["AWS_ACCESS_KEY_ID": "  ", "AWS_SECRET_ACCESS_KEY": ""]).resolveCredentials()
        #expect(credentials.accessKeyID == "AKIADEFAULTFILE")
    }

    // MARK: - Files

    @Test("credentials file before config file; [profile name] sections in config; nested blocks ignored")
    func configProfiles() throws {
        let staging = try chain(["AWS_PROFILE": "staging"]).resolveCredentials()
        #expect(staging.accessKeyID == "AKIASTAGINGCONFIG")
        #expect(staging.secretAccessKey == "stagingConfigSecret")
        #expect(staging.source == "profile \"staging\" in /home/op/.aws/config")
    }

    @Test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files; ~ expands to HOME")
    func fileOverrides() throws {
        let files = [
            "/home/op/alt/creds": "[default]\naws_access_key_id=AKIAALT\naws_secret_access_key=altSecret\n",
            "/etc/aws-config": "[default]\nregion=sa-east-1\n",
        ]
        let resolved = chain(
            ["AWS_SHARED_CREDENTIALS_FILE": "~/alt/creds", "AWS_CONFIG_FILE": "/etc/aws-config"],
            files: files
        )
        #expect(resolved.credentialsFilePath == "/home/op/alt/creds")
        #expect(try resolved.resolveCredentials().accessKeyID == "AKIAALT")
        #expect(try resolved.resolveRegion() == "sa-east-1")
    }

    @Test("half a key pair in a profile is an error naming the profile")
    func partialProfile() {
        let error = #expect(throws: AWSError.self) {
            try chain(["AWS_PROFILE": "half"]).resolveCredentials()
        }
        #expect(error?.code == .incompleteCredentials)
        #expect(error?.subject == "profile \"half\" in /home/op/.aws/credentials")
        #expect(error?.description.contains("aws_secret_access_key") == true)
    }

    @Test("a provided source, tried where it is listed")
    func providedSource() throws {
        let credentials = try chain(
            ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envSecret"],
            sources: [
                .provider(
                    FixedProvider(
                        result: .success(
                            AWSCredentials(
                                accessKeyID: "AKIAPROVIDED", secretAccessKey: "provided",
                                source: "test provider")))), .environment,
            ]
        ).resolveCredentials()
        #expect(credentials.accessKeyID == "AKIAPROVIDED")
        #expect(credentials.source == "test provider")
    }

    // MARK: - Nothing found

    @Test("when nothing yields credentials the error lists every source and why")
    func nothingFound() {
        let emptySecret = FixedProvider(
            result: .failure(
                AWSError(
                    code: .noCredentials, subject: "Secret longhorn-system/role-only",
                    detail: "has neither AWS_ACCESS_KEY_ID nor AWS_SECRET_ACCESS_KEY (it names AWS_IAM_ROLE_ARN)")))
        let error = #expect(throws: AWSError.self) {
            try chain(
                ["AWS_PROFILE": "missing"],
                files: [Self.configPath: "[profile other]\nregion=x\n"],
                sources: [.provider(emptySecret), .environment, .sharedFiles]
            ).resolveCredentials()
        }
        #expect(error?.code == .noCredentials)
        let text = error?.description ?? ""
        #expect(text.contains("Secret longhorn-system/role-only: has neither AWS_ACCESS_KEY_ID nor AWS_SECRET_ACCESS_KEY"))
        #expect(text.contains("AWS_IAM_ROLE_ARN"))
        #expect(text.contains("environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"))
        #expect(text.contains("shared credentials file /home/op/.aws/credentials: no such file"))
        #expect(text.contains("shared config file /home/op/.aws/config: no profile \"missing\""))
        #expect(text.contains("hint: "))
    }

    @Test("unsupported profile kinds (SSO, roles) are named with a way out")
    func unsupportedProfile() {
        let error = #expect(throws: AWSError.self) {
            try chain(["AWS_PROFILE": "sso"]).resolveCredentials()
        }
        let text = error?.description ?? ""
        #expect(text.contains("uses sso_session"))
        #expect(text.contains("aws configure export-credentials --profile sso"))
    }

    @Test("no HOME and no overrides: the reason says so")
    func noHome() {
        let chain = AWSCredentialChain(environment: .inMemory())
        let error = #expect(throws: AWSError.self) { try chain.resolveCredentials() }
        #expect(error?.description.contains("$HOME is not set") == true)
    }

    @Test("an unreadable file is reported, not taken for a missing one")
    func unreadableFile() {
        struct Denied: Error, CustomStringConvertible {
            var description: String { "permission denied" }
        }
        let env = AWSEnvironment(variables: ["HOME": Self.home], readFile: { _ in throw Denied() })
        let error = #expect(throws: AWSError.self) { try AWSCredentialChain(environment: env).resolveCredentials() }
        #expect(error?.description.contains("could not be read (permission denied)") == true)
    }

    // MARK: - Region

    @Test("region: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's config")
    func regionOrder() throws {
        #expect(try chain(["AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-1"]).resolveRegion() == "us-east-2")
        #expect(try chain(["AWS_DEFAULT_REGION": "us-west-1"]).resolveRegion() == "us-west-1")
        #expect(try chain().resolveRegion() == "eu-central-1")
        #expect(try chain(["AWS_PROFILE": "sso"]).resolveRegion() == "ap-southeast-2")
    }

    @Test("no region anywhere: the error lists where it looked and suggests the URL form")
    func noRegion() {
        let error = #expect(throws: AWSError.self) {
            try chain(files: [:]).resolveRegion()
        }
        #expect(error?.code == .noRegion)
        #expect(error?.description.contains("AWS_REGION and AWS_DEFAULT_REGION are not set") == true)
        #expect(error?.description.contains("s3://bucket@region/path/") == true)
    }
}

@Suite("AWSCredentials redaction")
struct AWSCredentialsRedactionTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token = "FwoGZXIvYXdzEXAMPLETOKEN"
    let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret, sessionToken: token, source: "environment")

    @Test("description, debugDescription, interpolation and dump never show the secret or token")
    func redacted() {
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials), dumped] {
            #expect(!text.contains(Self.secret), "secret leaked in: \(text)")
            #expect(!text.contains(Self.token), "token leaked in: \(text)")
            #expect(text.contains("AKIDEXAMPLE"))
        }
    }

    @Test("errors built from a chain never carry the secret")
    func errorsRedacted() {
        let env = AWSEnvironment.inMemory(variables: ["AWS_SECRET_ACCESS_KEY": Self.secret])
        let error = #expect(throws: AWSError.self) { try AWSCredentialChain(environment: env).resolveCredentials() }
        #expect(error.map { !$0.debugDescription.contains(Self.secret) } == true)
    }

}

/// A credential source with a fixed answer.
struct FixedProvider: AWSCredentialProvider {
    var result: Result<AWSCredentials, AWSError>
    func credentials() throws(AWSError) -> AWSCredentials { try result.get() }
}
