"""The Salesforce API resources the emulator serves: REST, Tooling, composite, query, sObject CRUD, describe."""
