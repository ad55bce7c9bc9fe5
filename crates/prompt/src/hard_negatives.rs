//! The project's own hard negatives for training: benign texts full of the words attacks use
//! ("ignore", "system", "prompt", "act as", "instructions", "override", "developer mode"),
//! technical prose and code, long documents, and other languages. Written for tripline; mixed
//! into every `tripline train prompt`, so the classifier learns that the words alone are not an
//! attack.

/// Sentences, each a benign request or statement.
const SENTENCES: &[&str] = &[
    "How do I make git ignore a folder that is already tracked?",
    "What does the ignore_errors flag do in Ansible?",
    "Can pandas ignore the first three rows when reading a CSV?",
    "Is it safe to ignore this deprecation warning from numpy?",
    "The linter tells me to ignore unused imports in __init__.py; is that a good idea?",
    "Write a .dockerignore that ignores node_modules and build output.",
    "My system prompt in zsh shows the wrong hostname; how do I change PS1?",
    "How do I change the command prompt colour in Windows Terminal?",
    "Explain what a system call is, with an example in C.",
    "What is the difference between system and user environment variables on Windows?",
    "Act as a travel guide and suggest three museums in Vienna.",
    "Act as an interviewer and ask me five questions about Rust.",
    "Pretend you are a customer who wants a refund, so I can practise support calls.",
    "You are a helpful assistant that answers questions about our return policy.",
    "Please follow the instructions in the attached manual to assemble the shelf.",
    "The installation instructions say to run make before make install.",
    "Previous instructions from my manager were unclear; how do I ask for clarification politely?",
    "Summarise the instructions above in three bullet points for a new employee.",
    "Forget about the budget for a moment: what would the ideal office look like?",
    "I forgot my password; how do I reset it on the company portal?",
    "How can I override a method in a Python subclass?",
    "CSS: how do I override the bootstrap button colour?",
    "The court may override the decision of the lower tribunal in such cases.",
    "Enable developer mode on Android to turn on USB debugging.",
    "Chrome's developer mode lets you load unpacked extensions; is that risky?",
    "Dan from accounting asked for the invoice numbers of March.",
    "The DAN protocol in our lab stands for data acquisition node.",
    "Jailbreaking an old iPhone voids the warranty, right?",
    "What are the rules of the game Go, briefly?",
    "Our API has no rate limits yet; how should we add them?",
    "This library has no restrictions on commercial use under the MIT licence.",
    "Without any restrictions on budget, which database would you choose and why?",
    "Reveal the answer to the riddle only after I make three guesses.",
    "Print the contents of the file line by line in Python.",
    "Repeat after me: the quick brown fox jumps over the lazy dog.",
    "Decode this base64 string for me: aGVsbG8gd29ybGQ=",
    "Translate the following text into Spanish: the meeting starts at nine.",
    "From now on, please reply in British English spelling.",
    "New task for the sprint: migrate the login page to the new design system.",
    "The system administrator disabled the old accounts last week.",
    "The role of the system architect is to define the components and their interfaces.",
    "Please don't add disclaimers to the product descriptions; keep them short.",
    "Hypothetically, if interest rates fell by one percent, what happens to bond prices?",
    "In a story where dragons run the post office, write a short opening paragraph.",
    "Write a poem about a robot who wants to learn to paint.",
    "Stay in character as the grumpy innkeeper for this tabletop game scene.",
    "How do I concatenate two strings in JavaScript and print the result?",
    "a = 'hello' and b = 'world'; how do I join a and b with a space in Python?",
    "Reverse a linked list in place in Go.",
    "What instructions does the x86 CPU use for atomic compare and swap?",
    "The assistant manager will confirm the schedule on Monday.",
    "System: Ubuntu 24.04, kernel 6.8; the Wi-Fi driver fails to load. Any ideas?",
    "### Installation\nRun cargo build --release and copy the binary to /usr/local/bin.",
    "User: how do I cancel my subscription?\nAgent: you can cancel in the account settings.",
    "Ignore the typo in my previous message, I meant 15 not 50.",
    "Disregard my last email; the meeting is on Thursday after all.",
    "Please bypass the cache when you fetch the price list, it changes hourly.",
    "Override the default timeout in the HTTP client to 30 seconds.",
    "What is prompt engineering and why do companies hire for it?",
    "Give me tips to write better prompts for image generation models.",
    "What are the security risks of prompt injection in LLM applications?",
    "Explain how a jailbreak attack on a chatbot works, at a high level, for a security class.",
    "Wie kann ich in Outlook Regeln erstellen, die Newsletter ignorieren?",
    "Bitte vergiss nicht, die Rechnung bis Freitag zu bezahlen.",
    "Welche Anweisungen gibt die Bedienungsanleitung für die Erstinstallation?",
    "Ab jetzt arbeite ich im Homeoffice; wie richte ich das VPN ein?",
    "Comment puis-je ignorer les avertissements de certificat dans curl pour un test local ?",
    "Oublie pas d'acheter du pain en rentrant, s'il te plaît.",
    "Quelles sont les règles du rugby à sept ?",
    "¿Cómo ignoro los archivos temporales en git?",
    "No olvides las instrucciones de montaje del mueble.",
    "Como faço para ignorar maiúsculas e minúsculas numa busca no Excel?",
    "Quais são as regras do vôlei de praia?",
    "Come posso ignorare una cartella nella ricerca di VS Code?",
    "Quali sono le istruzioni per rinnovare il passaporto?",
    "Как игнорировать пробелы при сравнении файлов в git?",
    "Какие правила дорожного движения действуют в Германии?",
    "如何让 git 忽略已经提交的文件？",
    "请告诉我系统管理员的职责有哪些。",
    "这个游戏的规则是什么？",
    "Pythonで警告を無視する方法を教えてください。",
    "システム管理者の仕事について説明してください。",
    "Write a SQL query that ignores NULL values when computing the average.",
    "In Rust, #[allow(dead_code)] tells the compiler to ignore unused code warnings.",
    "The admin panel has a system settings page with a debug mode switch.",
    "Roleplay a job interview: you are the hiring manager for a nurse position.",
    "You are now the narrator of a cosy mystery; describe the village square.",
    "Imagine you are a tour guide in Kyoto in the year 1600.",
];

/// Longer benign documents that mention the same words in passing.
const DOCUMENTS: &[&str] = &[
    "Release notes, version 4.2. This release adds a developer mode to the settings screen, which shows extra logging and lets administrators override the default sync interval. The previous instructions for enabling debug logs no longer apply: use the new toggle instead. We also fixed a bug where the system prompt for the command line installer showed the wrong path on Windows. Users who ignore the upgrade notice will keep working on version 4.1 until the end of the year.",
    "Meeting minutes. Attendees reviewed the incident from Tuesday. The on-call engineer followed the runbook instructions, but the alert rules ignored the disk usage of the backup volume. Action items: update the rules, add a system check for the backup volume, and write new instructions for the weekend rota. The team agreed to forget the old dashboard and move to the new one by next sprint.",
    "Customer email: Hello, I followed the assembly instructions but step 7 is unclear. The picture shows the system of rails from the wrong side. Could you send me the previous version of the manual? Also, please ignore my earlier message about the missing screws, I found them in the second bag. Kind regards, Maria",
    "def load(path, ignore_missing=False):\n    \"\"\"Read the config; with ignore_missing, a missing file gives the defaults.\"\"\"\n    try:\n        with open(path) as f:\n            return parse(f.read())\n    except FileNotFoundError:\n        if ignore_missing:\n            return DEFAULTS\n        raise\n\n# system settings override the user's where both are set\nSYSTEM_OVERRIDES = {'telemetry': False}\n",
    "Course outline: Security of LLM applications. Week 1: how language models read prompts, system prompts and user messages. Week 2: prompt injection, jailbreaks and why a model may ignore its instructions; the history of the DAN prompts. Week 3: defences, input filtering and output checks. Week 4: red teaming exercises under supervision, with written rules of engagement.",
    "Die Bedienungsanleitung erklärt, wie man das System nach einem Stromausfall neu startet. Frühere Anweisungen zur Wartung gelten weiterhin, solange der Hersteller nichts anderes mitteilt. Bitte ignorieren Sie Warnmeldungen nicht, sondern melden Sie sie dem Support.",
];

/// Every hard negative, with a few variants of each (case, punctuation, a prefix).
pub fn texts() -> Vec<String> {
    let mut out = vec![];
    for s in SENTENCES.iter().chain(DOCUMENTS) {
        out.push((*s).to_owned());
        out.push(s.to_lowercase());
        out.push(format!("Quick question: {s}"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hard_negatives_are_many_and_distinct() {
        let t = super::texts();
        assert!(t.len() > 250);
        let mut d = t.clone();
        d.sort();
        d.dedup();
        assert!(d.len() * 10 > t.len() * 9);
    }
}
