"""The object table: every sObject the emulator knows, with its fields and relationships."""

from __future__ import annotations

from lockstep.emulator.schema.model import BOTH, DATA, TOOLING, SObject, sobject

__all__ = ["OBJECTS"]

_SYSTEM_PERMS = (
    "PermissionsModifyAllData PermissionsViewAllData PermissionsApiEnabled PermissionsAuthorApex "
    "PermissionsCustomizeApplication PermissionsManageUsers PermissionsViewSetup "
    "PermissionsViewAllUsers PermissionsManageInternalUsers PermissionsResetPasswords "
    "PermissionsManageProfilesPermissionsets PermissionsAssignPermissionSets "
    "PermissionsModifyMetadata PermissionsManageSharing PermissionsExportReport "
    "PermissionsRunReports PermissionsApiUserOnly PermissionsLightningExperienceUser "
    "PermissionsViewEventLogFiles PermissionsManageDataIntegrations PermissionsInstallPackaging "
    "PermissionsManageAuthProviders PermissionsViewRoles PermissionsEditPublicDocuments"
)

# Organization columns as a real org returns them (sobject-Organization-get.json).
_ORG_PREFERENCES = (
    "PreferencesRequireOpportunityProducts PreferencesTransactionSecurityPolicy PreferencesTerminateOldestSession "
    "PreferencesConsentManagementEnabled PreferencesAutoSelectIndividualOnMerge PreferencesLightningLoginEnabled "
    "PreferencesOnlyLLPermUserAllowed"
)
_SHARING_DEFAULTS = (
    "DefaultAccountAccess DefaultContactAccess DefaultOpportunityAccess DefaultLeadAccess DefaultCaseAccess "
    "DefaultCalendarAccess DefaultPricebookAccess DefaultCampaignAccess"
)
# Apex code columns in retrieve order; Tooling adds ManageableState and the compound columns.
_APEX_CLASS_ORDER = (
    "Id NamespacePrefix Name ApiVersion Status IsValid BodyCrc Body LengthWithoutComments CreatedDate "
    "CreatedById LastModifiedDate LastModifiedById SystemModstamp ManageableState SymbolTable Metadata FullName"
)

OBJECTS: list[SObject] = [
    sobject(
        "Organization", "00D", DATA, deletable=False,
        string="Name Division City State PostalCode Country PrimaryContact SignupCountryIsoCode InstanceName "
               "NamespacePrefix WebToCaseDefaultOrigin",
        textarea="Street",
        double="Latitude Longitude",
        address="Address",
        phone="Phone Fax",
        email="ComplianceBccEmail",
        url="DelegatedAuthenticationServiceUrl",
        picklist="GeocodeAccuracy DefaultLocaleSidKey TimeZoneSidKey LanguageLocaleKey UiSkin OrganizationType "
                 + _SHARING_DEFAULTS,
        boolean="ReceivesInfoEmails ReceivesAdminInfoEmails UsesStartDateAsFiscalYearName IsSandbox IsReadOnly "
                + _ORG_PREFERENCES,
        int="FiscalYearStartMonth NumKnowledgeService MonthlyPageViewsUsed MonthlyPageViewsEntitlement",
        datetime="TrialExpirationDate",
        order="Id Name Division Street City State PostalCode Country Latitude Longitude GeocodeAccuracy Address "
              "Phone Fax PrimaryContact DefaultLocaleSidKey TimeZoneSidKey LanguageLocaleKey ReceivesInfoEmails "
              f"ReceivesAdminInfoEmails {_ORG_PREFERENCES} FiscalYearStartMonth UsesStartDateAsFiscalYearName "
              f"{_SHARING_DEFAULTS} DelegatedAuthenticationServiceUrl SystemModstamp ComplianceBccEmail UiSkin "
              "SignupCountryIsoCode TrialExpirationDate NumKnowledgeService OrganizationType NamespacePrefix "
              "InstanceName IsSandbox WebToCaseDefaultOrigin MonthlyPageViewsUsed MonthlyPageViewsEntitlement "
              "IsReadOnly CreatedDate CreatedById LastModifiedDate LastModifiedById",
    ),
    sobject(
        "User", "005", DATA,
        parents={"Profile": ("ProfileId", "Profile"), "Manager": ("ManagerId", "User")},
        string="Username FirstName LastName Name Alias CommunityNickname Title Department "
               "CompanyName FederationIdentifier TimeZoneSidKey LocaleSidKey LanguageLocaleKey "
               "EmailEncodingKey UserRoleId",
        email="Email",
        boolean="IsActive",
        picklist="UserType",
        datetime="LastLoginDate",
    ),
    sobject("Group", "00G", DATA, string="Name DeveloperName", picklist="Type", email="Email"),
    sobject("RecordType", "012", DATA, string="Name DeveloperName Description NamespacePrefix",
            picklist="SobjectType", boolean="IsActive"),
    sobject(
        "Profile", "00e", DATA,
        open_prefixes=("Permissions",),
        string="Name UserLicenseId",
        textarea="Description",
        picklist="UserType",
        boolean=_SYSTEM_PERMS,
    ),
    sobject(
        "PermissionSet", "0PS", DATA,
        open_prefixes=("Permissions",),
        parents={"Profile": ("ProfileId", "Profile")},
        children={
            "ObjectPerms": ("ObjectPermissions", "ParentId"),
            "FieldPerms": ("FieldPermissions", "ParentId"),
            "Assignments": ("PermissionSetAssignment", "PermissionSetId"),
        },
        string="Name Label LicenseId NamespacePrefix PermissionSetGroupId",
        picklist="Type",
        textarea="Description",
        boolean="IsOwnedByProfile IsCustom HasActivationRequired " + _SYSTEM_PERMS,
    ),
    sobject(
        "ObjectPermissions", "110", DATA,
        open_prefixes=("Permissions",),
        parents={"Parent": ("ParentId", "PermissionSet")},
        picklist="SobjectType",
        boolean="PermissionsRead PermissionsCreate PermissionsEdit PermissionsDelete "
                "PermissionsViewAllRecords PermissionsModifyAllRecords PermissionsViewAllFields",
    ),
    sobject(
        "FieldPermissions", "01k", DATA,
        parents={"Parent": ("ParentId", "PermissionSet")},
        picklist="SobjectType Field",
        boolean="PermissionsRead PermissionsEdit",
    ),
    sobject(
        "PermissionSetAssignment", "0Pa", DATA,
        parents={"Assignee": ("AssigneeId", "User"), "PermissionSet": ("PermissionSetId", "PermissionSet")},
        string="PermissionSetGroupId",
        boolean="IsActive",
        datetime="ExpirationDate",
    ),
    sobject(
        "SetupAuditTrail", "0Ym", DATA,
        string="Action Section Display DelegateUser ResponsibleNamespacePrefix CreatedByContext",
    ),
    sobject(
        "InstalledSubscriberPackage", "0A3", TOOLING,
        parents={
            "SubscriberPackage": ("SubscriberPackageId", "SubscriberPackage"),
            "SubscriberPackageVersion": ("SubscriberPackageVersionId", "SubscriberPackageVersion"),
        },
        string="MinPackageVersionId",
    ),
    sobject(
        "SubscriberPackage", "033", TOOLING,
        string="Name NamespacePrefix",
        textarea="Description",
        boolean="IsPackageValid",
    ),
    sobject(
        "SubscriberPackageVersion", "04t", TOOLING,
        parents={"SubscriberPackage": ("SubscriberPackageId", "SubscriberPackage")},
        string="Name Package2ContainerOptions ReleaseState AppExchangePackageName",
        textarea="Description",
        int="MajorVersion MinorVersion PatchVersion BuildNumber",
        boolean="IsBeta IsManaged IsDeprecated IsPasswordProtected IsSecurityReviewed",
    ),
    sobject(
        "PackageInstallRequest", "0Hf", TOOLING,
        string="SubscriberPackageVersionKey PackageInstallSource ProfileMappings Password Errors",
        picklist="NameConflictResolution SecurityType UpgradeType ApexCompileType Status",
        boolean="EnableRss SkipHandlers",
    ),
    sobject(
        "FlowDefinitionView", "300", DATA, audit=False,
        lookup_keys=("Id", "DurableId"),
        parents={"TriggerObjectOrEvent": ("TriggerObjectOrEventId", "EntityDefinition")},
        string="DurableId ApiName Label ActiveVersionId LatestVersionId LastModifiedBy "
               "NamespacePrefix InstalledPackageName Builder Environments RecordTriggerType",
        textarea="Description",
        picklist="ProcessType TriggerType ManageableState",
        boolean="IsActive IsOutOfDate IsTemplate IsOverridable IsSwingFlow",
        double="ApiVersion",
        int="TriggerOrder",
        datetime="LastModifiedDate",
    ),
    sobject(
        "FlowVersionView", "301", DATA, audit=False,
        lookup_keys=("Id", "DurableId"),
        string="DurableId FlowDefinitionViewId Label RunInMode",
        textarea="Description",
        picklist="Status ProcessType",
        int="VersionNumber",
        double="ApiVersion",
        datetime="LastModifiedDate",
    ),
    sobject(
        "FlowDefinition", "300", TOOLING,
        parents={"ActiveVersion": ("ActiveVersionId", "Flow"), "LatestVersion": ("LatestVersionId", "Flow")},
        string="DeveloperName MasterLabel NamespacePrefix FullName",
        textarea="Description",
        picklist="ManageableState",
    ),
    sobject(
        "Flow", "301", TOOLING,
        parents={"Definition": ("DefinitionId", "FlowDefinition")},
        string="MasterLabel FullName RunInMode",
        textarea="Description",
        picklist="Status ProcessType ManageableState",
        int="VersionNumber",
        double="ApiVersion",
    ),
    sobject(
        "ApexTrigger", "01q", BOTH,
        string="Name NamespacePrefix TableEnumOrId",
        textarea="Body",
        picklist="Status ManageableState",
        boolean="IsValid UsageBeforeInsert UsageAfterInsert UsageBeforeUpdate UsageAfterUpdate "
                "UsageBeforeDelete UsageAfterDelete UsageAfterUndelete UsageIsBulk",
        double="ApiVersion BodyCrc",
        int="LengthWithoutComments",
    ),
    sobject(
        "ApexClass", "01p", BOTH, deletable=False,
        string="Name NamespacePrefix",
        textarea="Body",
        picklist="Status",
        boolean="IsValid",
        double="ApiVersion BodyCrc",
        int="LengthWithoutComments",
        tooling_only={"picklist": "ManageableState", "complexvalue": "SymbolTable Metadata", "string": "FullName"},
        order=_APEX_CLASS_ORDER,
    ),
    sobject(
        "ApexCodeCoverageAggregate", "715", TOOLING,
        parents={"ApexClassOrTrigger": ("ApexClassOrTriggerId", ("ApexClass", "ApexTrigger"))},
        int="NumLinesCovered NumLinesUncovered",
    ),
    sobject(
        "ApexTestQueueItem", "709", BOTH,
        parents={
            "ApexClass": ("ApexClassId", "ApexClass"),
            "ParentJob": ("ParentJobId", "AsyncApexJob"),
        },
        string="ExtendedStatus TestRunResultId",
        picklist="Status",
        boolean="ShouldSkipCodeCoverage",
    ),
    sobject(
        "ApexTestResult", "07M", BOTH,
        parents={
            "ApexClass": ("ApexClassId", "ApexClass"),
            "AsyncApexJob": ("AsyncApexJobId", "AsyncApexJob"),
            "QueueItem": ("QueueItemId", "ApexTestQueueItem"),
        },
        children={"ApexTestResults": ("ApexTestResultLimits", "ApexTestResultId")},
        string="MethodName ApexLogId ApexTestRunResultId",
        textarea="Message StackTrace",
        picklist="Outcome",
        int="RunTime",
        datetime="TestTimestamp",
    ),
    sobject(
        "ApexTestResultLimits", "05n", TOOLING,
        parents={"ApexTestResult": ("ApexTestResultId", "ApexTestResult")},
        int="AsyncCalls Callouts Cpu Dml DmlRows Email MobilePush QueryRows Soql Sosl",
        picklist="LimitContext",
        string="LimitExceptions",
    ),
    sobject(
        "ValidationRule", "03d", TOOLING,
        parents={"EntityDefinition": ("EntityDefinitionId", "EntityDefinition")},
        string="ValidationName ErrorDisplayField ErrorMessage NamespacePrefix FullName",
        textarea="Description",
        boolean="Active",
        picklist="ManageableState",
    ),
    sobject(
        "EntityDefinition", "000", BOTH, audit=False,
        lookup_keys=("Id", "DurableId", "QualifiedApiName"),
        string="QualifiedApiName DeveloperName Label MasterLabel PluralLabel DurableId KeyPrefix "
               "NamespacePrefix InternalSharingModel ExternalSharingModel",
        boolean="IsCustomizable IsQueryable IsTriggerable IsCustomSetting IsApexTriggerable",
        datetime="LastModifiedDate",
    ),
    sobject(
        "NamedCredential", "0XA", BOTH,
        string="DeveloperName MasterLabel NamespacePrefix Language AuthProviderId",
        url="Endpoint AuthTokenEndpointUrl",
        textarea="Description",
        picklist="PrincipalType",
        boolean="CalloutOptionsGenerateAuthorizationHeader CalloutOptionsAllowMergeFieldsInHeader "
                "CalloutOptionsAllowMergeFieldsInBody",
    ),
    sobject(
        "RemoteProxy", "0rp", TOOLING,
        string="SiteName NamespacePrefix FullName",
        url="EndpointUrl",
        textarea="Description",
        picklist="ManageableState",
        boolean="IsActive DisableProtocolSecurity ProtocolMismatch",
    ),
    sobject(
        "CronTrigger", "08e", DATA, owner=True,
        parents={"CronJobDetail": ("CronJobDetailId", "CronJobDetail")},
        string="CronExpression TimeZoneSidKey",
        picklist="State",
        datetime="NextFireTime PreviousFireTime StartTime EndTime",
        int="TimesTriggered",
    ),
    sobject("CronJobDetail", "08a", DATA, audit=False, string="Name", picklist="JobType"),
    sobject(
        "AsyncApexJob", "707", DATA,
        parents={
            "ApexClass": ("ApexClassId", "ApexClass"),
            "CronTrigger": ("CronTriggerId", "CronTrigger"),
            "ParentJob": ("ParentJobId", "AsyncApexJob"),
        },
        string="MethodName ExtendedStatus LastProcessed",
        picklist="JobType Status",
        int="JobItemsProcessed TotalJobItems NumberOfErrors LastProcessedOffset",
        datetime="CompletedDate",
    ),
    sobject(
        "EventBusSubscriber", "1dS", DATA, audit=False,
        string="ExternalId Name Topic LastError LastProcessed LastPublished",
        picklist="Type Status",
        int="Position Tip Retries",
        boolean="IsPartitioned",
    ),
    sobject(
        "DeployRequest", "0Af", TOOLING,
        parents={"CanceledBy": ("CanceledById", "User")},
        string="ErrorStatusCode ErrorMessage StateDetail",
        picklist="Status",
        boolean="CheckOnly RunTestsEnabled IgnoreWarnings AllowMissingFiles",
        int="NumberComponentsDeployed NumberComponentsTotal NumberComponentErrors "
            "NumberTestsCompleted NumberTestsTotal NumberTestErrors",
        datetime="StartDate CompletedDate",
    ),
    sobject(
        "Account", "001", DATA, owner=True,
        parents={"Parent": ("ParentId", "Account")},
        children={
            "Contacts": ("Contact", "AccountId"),
            "Cases": ("Case", "AccountId"),
            "Opportunities": ("Opportunity", "AccountId"),
            "ChildAccounts": ("Account", "ParentId"),
        },
        string="Name AccountNumber Site BillingStreet BillingCity BillingState BillingPostalCode "
               "BillingCountry ShippingStreet ShippingCity ShippingState ShippingPostalCode "
               "ShippingCountry TickerSymbol",
        picklist="Type Industry Rating AccountSource Ownership",
        currency="AnnualRevenue",
        int="NumberOfEmployees",
        phone="Phone Fax",
        url="Website",
        textarea="Description",
        date="LastActivityDate",
    ),
    sobject(
        "Contact", "003", DATA, owner=True,
        parents={"Account": ("AccountId", "Account"), "ReportsTo": ("ReportsToId", "Contact")},
        children={"Cases": ("Case", "ContactId"), "Opportunities": ("Opportunity", "ContactId")},
        string="FirstName LastName Name Title Department AssistantName MailingStreet MailingCity "
               "MailingState MailingPostalCode MailingCountry",
        picklist="Salutation LeadSource",
        email="Email",
        phone="Phone MobilePhone HomePhone",
        boolean="HasOptedOutOfEmail DoNotCall",
        textarea="Description",
        date="Birthdate LastActivityDate",
    ),
    sobject(
        "Lead", "00Q", DATA, owner=("User", "Group"),
        parents={
            "ConvertedAccount": ("ConvertedAccountId", "Account"),
            "ConvertedContact": ("ConvertedContactId", "Contact"),
            "ConvertedOpportunity": ("ConvertedOpportunityId", "Opportunity"),
        },
        string="FirstName LastName Name Company Title Street City State PostalCode Country",
        picklist="Salutation Status LeadSource Industry Rating",
        email="Email",
        phone="Phone MobilePhone",
        url="Website",
        currency="AnnualRevenue",
        int="NumberOfEmployees",
        boolean="IsConverted IsUnreadByOwner",
        textarea="Description",
        date="ConvertedDate LastActivityDate",
    ),
    sobject(
        "Case", "500", DATA, owner=("User", "Group"),
        parents={
            "Account": ("AccountId", "Account"),
            "Contact": ("ContactId", "Contact"),
            "Parent": ("ParentId", "Case"),
        },
        children={"Cases": ("Case", "ParentId")},
        string="CaseNumber Subject SuppliedName SuppliedCompany",
        picklist="Status Priority Origin Type Reason",
        email="SuppliedEmail",
        phone="SuppliedPhone",
        textarea="Description",
        boolean="IsClosed IsEscalated",
        datetime="ClosedDate",
    ),
    sobject(
        "Opportunity", "006", DATA, owner=True,
        parents={"Account": ("AccountId", "Account"), "Contact": ("ContactId", "Contact")},
        string="Name NextStep CampaignId",
        picklist="StageName Type LeadSource ForecastCategoryName",
        currency="Amount ExpectedRevenue",
        percent="Probability",
        boolean="IsClosed IsWon",
        textarea="Description",
        date="CloseDate LastActivityDate",
    ),
]
