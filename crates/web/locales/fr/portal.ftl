portal-name = Portail partenaires
skip-to-content = Aller au contenu
nav-inbox = Boîte de réception
nav-sign-out = Se déconnecter
signed-in-as = Connecté en tant que { $name }

sign-in-title = Connexion
sign-in-intro = Saisissez l’adresse e-mail que votre entreprise a enregistrée pour vous. Nous vous enverrons un lien de connexion.
sign-in-email = Adresse e-mail
sign-in-send = Recevoir un lien de connexion
sign-in-sent-title = Consultez votre messagerie
sign-in-sent = Si { $email } appartient à un utilisateur partenaire, un lien de connexion est en route. Il fonctionne une fois, pendant 15 minutes.
sign-in-again = Utiliser une autre adresse
sign-in-link-title = Terminer la connexion
sign-in-link-intro = Appuyez sur le bouton pour vous connecter au portail partenaires sur cet appareil.
sign-in-link-button = Se connecter
sign-in-link-failed = Ce lien de connexion a déjà servi, a expiré ou n’est pas valide. Demandez-en un nouveau.

inbox-title = Boîte de réception
inbox-search = Rechercher dans les messages
inbox-search-button = Rechercher
inbox-filter-topic = Sujet
inbox-filter-any-topic = Tous les sujets
inbox-filter-importance = Importance
inbox-filter-any-importance = Toute importance
inbox-filter-unread = Non lus seulement
inbox-filter-needs-ack = En attente de ma confirmation
inbox-filter-apply = Appliquer les filtres
inbox-filter-clear = Effacer
inbox-empty = Aucun message ne correspond.
inbox-older = Messages plus anciens
inbox-unread = Non lu
inbox-needs-ack = Confirmation requise
inbox-acknowledged = Confirmé

importance-critical = À connaître absolument
importance-action = À connaître
importance-info = Bon à savoir

message-what-changed = Ce qui change
message-why-it-matters = Pourquoi c’est important
message-what-to-do = Que faire maintenant
message-back = Retour à la boîte de réception
message-received = Reçu le { $date }
message-ack-title = Votre confirmation
message-ack-intro = En appuyant sur le bouton, vous confirmez :
message-ack-button = Je confirme
message-ack-due = Merci de confirmer avant le { $date }.
message-ack-done = Vous l’avez confirmé le { $date }.
message-acknowledged = Merci : votre confirmation est enregistrée.

popup-label = À connaître absolument : en attente de votre confirmation
popup-read = Lire et confirmer
popup-later = Fermer pour l’instant

error-title = Un problème est survenu
error-not-found = Cette page n’existe pas, ou elle ne vous est pas destinée.
error-form-expired = Ce formulaire a expiré. Revenez en arrière, rechargez la page et réessayez.
error-too-many = Trop de tentatives. Attendez une minute et réessayez.
error-unexpected = Un problème est survenu de notre côté. Réessayez dans un instant.
